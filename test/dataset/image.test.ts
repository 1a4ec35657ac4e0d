import { describe, expect, it } from 'vitest';
import { computeImageTag, ELEMENT_WEB_EXCEPTION, imageReference } from '../../src/dataset/image.ts';

describe('computeImageTag (the official rule)', () => {
  it('joins org.name-hash, lower-cases the repository and drops the instance_ prefix', () => {
    expect(computeImageTag('instance_Acme__Tool-0123abcd', 'Acme/Tool')).toBe('acme.tool-Acme__Tool-0123abcd');
  });
  it('drops a trailing -vnan, but keeps other version suffixes', () => {
    expect(computeImageTag('instance_acme__forum-1234-vnan', 'acme/forum')).toBe('acme.forum-acme__forum-1234');
    expect(computeImageTag('instance_acme__forum-1234-v0a1b', 'acme/forum')).toBe('acme.forum-acme__forum-1234-v0a1b');
    expect(computeImageTag('instance_acme__forum-vnan-1234', 'acme/forum')).toBe('acme.forum-acme__forum-vnan-1234');
  });
  it('names element-web images "element" and drops -vnan', () => {
    expect(computeImageTag('instance_element-hq__element-web-abc123-vnan', 'element-hq/element-web')).toBe(
      'element-hq.element-element-hq__element-web-abc123',
    );
    expect(computeImageTag('instance_element-hq__element-web-abc123-v99', 'Element-HQ/Element-Web')).toBe(
      'element-hq.element-element-hq__element-web-abc123-v99',
    );
  });
  it('keeps element-web and -vnan for the one exceptional task', () => {
    expect(computeImageTag(ELEMENT_WEB_EXCEPTION, 'element-hq/element-web')).toBe(
      'element-hq.element-web-element-hq__element-web-ec0f940ef0e8e3b61078f145f34dc40d1938e6c5-vnan',
    );
  });
  it('cuts the tag to its first 128 characters', () => {
    const id = `instance_acme__tool-${'a'.repeat(40)}-v${'b'.repeat(80)}`;
    const full = `acme.tool-acme__tool-${'a'.repeat(40)}-v${'b'.repeat(80)}`;
    expect(full.length).toBeGreaterThan(128);
    const tag = computeImageTag(id, 'acme/tool');
    expect(tag).toHaveLength(128);
    expect(tag).toBe(full.slice(0, 128));
  });
  it('leaves a 128-character tag whole', () => {
    const prefix = 'acme.tool-acme__tool-';
    const id = `instance_acme__tool-${'c'.repeat(128 - prefix.length)}`;
    expect(computeImageTag(id, 'acme/tool')).toBe(prefix + 'c'.repeat(128 - prefix.length));
  });
  it('refuses a repository that is not owner/name, naming the task', () => {
    expect(() => computeImageTag('instance_x', 'just-a-name')).toThrow(/task instance_x: repository "just-a-name"/);
  });
});

describe('imageReference', () => {
  it('joins the configured repository and the tag', () => {
    expect(imageReference('acme.tool-x', 'jefzda/sweap-images')).toBe('jefzda/sweap-images:acme.tool-x');
    expect(imageReference('t', 'registry.local:5000/team/images')).toBe('registry.local:5000/team/images:t');
  });
  it('refuses a repository that already carries a tag or a digest, and a bad tag', () => {
    expect(() => imageReference('t', 'jefzda/sweap-images:latest')).toThrow(/must not carry a tag/);
    expect(() => imageReference('t', 'a/b@sha256:00')).toThrow(/not a repository name/);
    expect(() => imageReference('-bad', 'a/b')).toThrow(/image tag "-bad" is not a valid tag/);
  });
});
