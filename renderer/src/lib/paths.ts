/** Remote paths: relative to the peer's shared folder, '/'-separated, '' for its top. */

export function joinPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export interface Crumb {
  name: string;
  path: string;
}

/** The crumbs of a path, the top of the share first. */
export function breadcrumbs(path: string, topName: string): Crumb[] {
  const crumbs: Crumb[] = [{ name: topName, path: '' }];
  let at = '';
  for (const part of path.split('/').filter(Boolean)) {
    at = joinPath(at, part);
    crumbs.push({ name: part, path: at });
  }
  return crumbs;
}
