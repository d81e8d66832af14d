// A browser without a browser, for the HTTP-level connect tests: it keeps
// cookies per host the way a browser would and does not follow redirects, so
// a test sees every hop.

export class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  async fetch(url: string, form?: URLSearchParams): Promise<Response> {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        ...(jar.size ? { cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form,
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at).trim(), pair!.slice(at + 1));
    }
    this.cookies.set(host, jar);
    return response;
  }

  /** The Location of a redirect answer to GET (or POST with `form`); fails on anything else. */
  async redirectOf(url: string, form?: URLSearchParams): Promise<string> {
    const response = await this.fetch(url, form);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status > 399 || !location) {
      throw new Error(`expected a redirect from ${new URL(url).pathname}, got ${response.status}: ${(await response.text()).slice(0, 300)}`);
    }
    return new URL(location, url).toString();
  }

  has(host: string, name: string): boolean {
    return this.cookies.get(host)?.has(name) ?? false;
  }
}
