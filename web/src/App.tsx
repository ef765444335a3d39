import { useEffect, useRef, useState } from 'preact/hooks';
import { onLinkClick, useRoute } from './router';
import { clearToken, roleOf, savedToken } from './session';
import { Audit } from './views/Audit';
import { DeadLetters } from './views/DeadLetters';
import { Login } from './views/Login';
import { Models } from './views/Models';
import { Overview } from './views/Overview';
import { TenantHome } from './views/TenantHome';
import { TenantPage } from './views/TenantPage';
import { Tenants } from './views/Tenants';
import { Webhooks } from './views/Webhooks';

const ADMIN_NAV: Array<[string, string]> = [
  ['/', 'Overview'],
  ['/tenants', 'Tenants'],
  ['/models', 'Models'],
  ['/webhooks', 'Webhooks'],
  ['/dead-letters', 'Dead letters'],
  ['/audit', 'Audit log'],
];

function AdminRoutes({ route }: { route: string }) {
  const tenant = /^\/tenants\/([^/]+)$/.exec(route);
  if (tenant) return <TenantPage id={decodeURIComponent(tenant[1])} />;
  switch (route) {
    case '/tenants':
      return <Tenants />;
    case '/models':
      return <Models />;
    case '/webhooks':
      return <Webhooks />;
    case '/dead-letters':
      return <DeadLetters />;
    case '/audit':
      return <Audit />;
    default:
      return <Overview />;
  }
}

export function App() {
  const [token, setToken] = useState(savedToken());
  const route = useRoute();
  useEffect(() => {
    addEventListener('click', onLinkClick);
    return () => removeEventListener('click', onLinkClick);
  }, []);
  // A new page moves the focus to its content, as a page load would (screen readers announce it).
  const firstRoute = useRef(true);
  useEffect(() => {
    if (firstRoute.current) firstRoute.current = false;
    else document.getElementById('main')?.focus();
  }, [route]);
  if (!token) return <Login onLogin={() => setToken(savedToken())} />;
  const role = roleOf(token);
  const logout = () => {
    clearToken();
    setToken(null);
  };
  const section = route === '/' ? '/' : `/${route.split('/')[1]}`;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <strong class="brand">Tollgate</strong>
        <nav aria-label="Main">
          {role === 'admin' ? (
            ADMIN_NAV.map(([path, label]) => (
              <a key={path} href={`/dashboard${path}`} data-route={path} aria-current={section === path ? 'page' : undefined}>
                {label}
              </a>
            ))
          ) : (
            <a href="/dashboard/" data-route="/" aria-current="page">
              Account
            </a>
          )}
        </nav>
        <span class="role">{role === 'admin' ? 'admin' : 'tenant'}</span>
        <button type="button" onClick={logout}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {role === 'admin' ? <AdminRoutes route={route} /> : <TenantHome />}
      </main>
    </>
  );
}
