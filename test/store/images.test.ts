/** The store's record of pulled images and of each track's suite images (the docker.images policy rests on them). */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers/context.ts';

let store: Store;
afterEach(() => store?.close());

describe('pulled images and track images', () => {
  it('records pulls once per reference, lists them oldest first, forgets removed ones, and keeps them across a reopen', () => {
    const file = path.join(tempDir(), 'x.sqlite');
    store = new Store(file);
    store.images.recordPulled('r/a:1', 2000);
    store.images.recordPulled('r/b:1', 1000);
    store.images.recordPulled('r/a:1', 3000);
    expect(store.images.pulled()).toEqual([
      { ref: 'r/b:1', pulledAtMs: 1000 },
      { ref: 'r/a:1', pulledAtMs: 3000 },
    ]);
    store.images.forgetPulled('r/b:1');
    store.close();
    store = new Store(file);
    expect(store.images.pulled().map((p) => p.ref)).toEqual(['r/a:1']);
  });

  it('replaces a track\'s suite images as a whole; null before any run resolved them; other tracks untouched', () => {
    store = new Store(path.join(tempDir(), 'x.sqlite'));
    store.tracks.ensure({ name: 'a', agent: 'claude-code', model: 'm' });
    store.tracks.ensure({ name: 'b', agent: 'claude-code', model: 'm' });
    expect(store.images.ofTrack('a')).toBeNull();
    expect(store.images.ofTrack('nope')).toBeNull();
    store.images.setOfTrack('a', ['r/x:1', 'r/y:1', 'r/x:1']);
    store.images.setOfTrack('b', ['r/z:1']);
    expect(store.images.ofTrack('a')).toEqual(['r/x:1', 'r/y:1']);
    store.images.setOfTrack('a', ['r/y:1', 'r/w:1']);
    expect(store.images.ofTrack('a')).toEqual(['r/w:1', 'r/y:1']);
    expect(store.images.ofTrack('b')).toEqual(['r/z:1']);
  });
});
