// Who may write (media review L7). The Function URL takes AuthType AWS_IAM, so every request is
// already signed by someone allowed to invoke it: an operator's own credentials (tooling), or
// CloudFront for the site's distribution, which signs on behalf of any viewer. The distribution
// adds the origin header `x-castform-via: cloudfront`, whose value CloudFront overwrites if a
// viewer sent one (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/add-origin-custom-headers.html),
// so a write that carries it must also carry an operator's Cognito access token, in
// `x-operator-token` (CloudFront's signature takes the Authorization header). The token is
// checked twice: its claims (the operators' pool, this app client, access, unexpired), then by
// Cognito through GetUser, which refuses a forged, expired or revoked token
// (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_GetUser.html).
import { CognitoIdentityProviderClient, GetUserCommand } from '@aws-sdk/client-cognito-identity-provider';

const cognito = new CognitoIdentityProviderClient({});

export class Refused extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function claims(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

const header = (event, name) => {
  const headers = event?.headers ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key ? headers[key] : undefined;
};

// Resolves to who writes ('iam' or the operator's username); throws Refused otherwise.
export async function writer(event) {
  if (header(event, 'x-castform-via') !== 'cloudfront') return 'iam';
  const token = header(event, 'x-operator-token');
  if (!token) throw new Refused(401, 'a write through the site needs an operator sign-in (x-operator-token)');
  const c = claims(token);
  const issuer = `https://cognito-idp.${process.env.AWS_REGION}.amazonaws.com/${process.env.OPERATORS_POOL_ID}`;
  const fresh = c && typeof c.exp === 'number' && c.exp * 1000 > Date.now();
  if (!c || c.iss !== issuer || c.token_use !== 'access' || c.client_id !== process.env.OPERATORS_CLIENT_ID || !fresh) {
    throw new Refused(403, 'the operator token is not valid for this environment');
  }
  try {
    const user = await cognito.send(new GetUserCommand({ AccessToken: token }));
    return user.Username ?? c.sub;
  } catch (e) {
    console.log(JSON.stringify({ msg: 'operator token refused by Cognito', error: e.name }));
    throw new Refused(403, 'the operator token is not valid for this environment');
  }
}
