// StreamCanvas's $connect authorizer (API Gateway WebSocket REQUEST authorizer): a connection is
// allowed only with an access token of this environment's user pool and app client, passed as
// `?token=` (a browser's WebSocket cannot set headers).
//
// The token is checked twice: its claims here (issuer = this pool, token_use = access,
// client_id = this app client, not expired), then by Cognito itself through GetUser, which
// refuses a forged, expired or revoked token and needs no IAM permission (it is authorized by
// the token; https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_GetUser.html).
// The answer is the IAM policy API Gateway expects from a Lambda authorizer, allowing this
// route's methodArn, with the user's sub as principal and in the context the handler receives
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html).
import { CognitoIdentityProviderClient, GetUserCommand } from '@aws-sdk/client-cognito-identity-provider';

const cognito = new CognitoIdentityProviderClient({});

function claims(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}

function policy(effect, methodArn, principalId, context) {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: methodArn }],
    },
    ...(context ? { context } : {}),
  };
}

export const handler = async (event) => {
  const token = event.queryStringParameters?.token;
  // no identity source: API Gateway answers 401 itself; here, the same refusal
  if (!token) throw new Error('Unauthorized');
  const c = claims(token);
  const issuer = `https://cognito-idp.${process.env.AWS_REGION}.amazonaws.com/${process.env.USER_POOL_ID}`;
  const fresh = c && typeof c.exp === 'number' && c.exp * 1000 > Date.now();
  if (!c || c.iss !== issuer || c.token_use !== 'access' || c.client_id !== process.env.USER_POOL_CLIENT_ID || !fresh) {
    return policy('Deny', event.methodArn, 'anonymous');
  }
  try {
    const user = await cognito.send(new GetUserCommand({ AccessToken: token }));
    return policy('Allow', event.methodArn, c.sub, { sub: c.sub, username: user.Username ?? '' });
  } catch (e) {
    console.log(JSON.stringify({ msg: 'token refused by Cognito', error: e.name }));
    return policy('Deny', event.methodArn, 'anonymous');
  }
};
