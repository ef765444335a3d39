import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorMessage } from '../components/Status';
import { Field, valueOf } from '../components/Field';
import { useAction } from '../components/useAction';
import { roleOf, saveToken } from '../session';

/** The token form: the admin token opens the admin view, a tenant key (sk-...) the tenant's own. */
export function Login({ onLogin }: { onLogin: () => void }) {
  const [token, setToken] = useState('');
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    const probe = roleOf(t) === 'admin' ? '/admin/tenants' : '/v1/balance';
    if ((await action.run(() => api('GET', probe, undefined, t))) !== undefined) {
      saveToken(t);
      onLogin();
    }
  };
  return (
    <main class="login">
      <h1>Tollgate</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <Field
          id="token"
          label="Admin token or API key"
          type="password"
          autoComplete="off"
          required
          autoFocus
          value={token}
          onInput={(e) => setToken(valueOf(e))}
          hint="Kept in this browser tab only; signing out forgets it."
        />
        <button type="submit" disabled={action.busy || !token.trim()}>
          {action.busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorMessage error={action.error} />
      </form>
    </main>
  );
}
