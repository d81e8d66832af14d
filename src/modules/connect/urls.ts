// Where the hosted connect pages live under Heddle's public base URL.

export const CONNECT_PATH = '/connect';

/** The OAuth2 redirect_uri to register with every provider. */
export const callbackUrl = (publicUrl: string): string => `${publicUrl}${CONNECT_PATH}/callback`;

/** The page a host product sends its end user to. */
export const sessionUrl = (publicUrl: string, token: string): string => `${publicUrl}${CONNECT_PATH}/${token}`;
