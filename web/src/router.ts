import { useEffect, useState } from 'preact/hooks';

export const BASE = '/dashboard';

/** The client route: the path after /dashboard ("/" for the overview). */
function current(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '/';
  return path === '' ? '/' : path;
}

export function navigate(path: string) {
  history.pushState(null, '', BASE + path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): string {
  const [route, setRoute] = useState(current());
  useEffect(() => {
    const update = () => setRoute(current());
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}

/** Plain links inside the app move without a reload; modified clicks keep the browser's habit. */
export function onLinkClick(e: MouseEvent) {
  const a = (e.target as Element).closest?.('a[data-route]');
  if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute('data-route')!);
}
