// The token of the tab: read from a sign-in link's fragment (which browsers
// never send to the server) or pasted, kept in sessionStorage so that it
// lives as long as the tab and no other tab or later visit sees it.
const tokenKey = "parley.token";

export function takeTokenFromFragment(): string | null {
  const hash = location.hash.replace(/^#\/?/, "");
  const params = new URLSearchParams(hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : hash);
  const token = params.get("token");
  if (!token) return null;
  // Drop the token from the address bar and from history at once.
  history.replaceState(null, "", location.pathname + location.search + "#/");
  return token.trim();
}

export function storedToken(): string | null {
  return sessionStorage.getItem(tokenKey);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(tokenKey, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(tokenKey);
}
