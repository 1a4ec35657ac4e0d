/**
 * The image of a task: the official tag rule of SWE-Bench-Pro's helper for rows without a `dockerhub_tag`, and the
 * image reference built from the configured registry repository. Pure functions.
 */

/** The one task whose image keeps the name `element-web` and its `-vnan` suffix. */
export const ELEMENT_WEB_EXCEPTION = 'instance_element-hq__element-web-ec0f940ef0e8e3b61078f145f34dc40d1938e6c5-vnan';

/** Longest tag a registry accepts. */
export const MAX_TAG_LENGTH = 128;

/** A valid image tag: word characters, '.' and '-', not starting with '.' or '-', at most 128 characters. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * The tag the official helper computes for a task:
 * 1. `repo` lower-cased and split at '/' into org and name; `h` = the instance id without `instance_`;
 * 2. element-hq/element-web: the name becomes `element` and a trailing `-vnan` is dropped, except for the one task
 *    ELEMENT_WEB_EXCEPTION, which keeps `element-web` and its `-vnan`;
 * 3. every other repository: a trailing `-vnan` is dropped from `h`;
 * 4. tag = `org.name-h`, cut to its first 128 characters.
 * Like the official helper, every `instance_` in the id is removed, not only a leading one.
 */
export function computeImageTag(instanceId: string, repo: string): string {
  const parts = repo.toLowerCase().split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new Error(`task ${instanceId}: repository ${JSON.stringify(repo)} is not of the form owner/name`);
  }
  const org = parts[0];
  let name = parts[1];
  let h = instanceId.replaceAll('instance_', '');
  const lowerRepo = repo.toLowerCase();
  if (instanceId === ELEMENT_WEB_EXCEPTION) {
    name = 'element-web';
  } else if (lowerRepo.includes('element-hq') && lowerRepo.includes('element-web')) {
    name = 'element';
    if (h.endsWith('-vnan')) h = h.slice(0, -'-vnan'.length);
  } else if (h.endsWith('-vnan')) {
    h = h.slice(0, -'-vnan'.length);
  }
  return `${org}.${name}-${h}`.slice(0, MAX_TAG_LENGTH);
}

/** `<repository>:<tag>`, e.g. `jefzda/sweap-images:navidrome.navidrome-navidrome__navidrome-e12a…`. */
export function imageReference(imageTag: string, imageRepository: string): string {
  const repository = imageRepository.trim();
  if (repository === '' || /\s/.test(repository) || repository.includes('@')) {
    throw new Error(`image repository ${JSON.stringify(imageRepository)} is not a repository name such as jefzda/sweap-images`);
  }
  if (/:[^/]*$/.test(repository.replace(/^[^/]+\//, ''))) {
    throw new Error(`image repository ${JSON.stringify(imageRepository)} must not carry a tag: the tag comes from the task`);
  }
  if (!TAG_PATTERN.test(imageTag)) throw new Error(`image tag ${JSON.stringify(imageTag)} is not a valid tag`);
  return `${repository}:${imageTag}`;
}
