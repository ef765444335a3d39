/** The token lives in this browser tab's session only. */
const KEY = 'tollgate.token';

export type Role = 'admin' | 'tenant';

export const roleOf = (token: string): Role => (token.startsWith('sk-') ? 'tenant' : 'admin');
export const savedToken = (): string | null => sessionStorage.getItem(KEY);
export const saveToken = (token: string) => sessionStorage.setItem(KEY, token);
export const clearToken = () => sessionStorage.removeItem(KEY);
