// Reads window.LUNORA_CONFIG, written by `castform deploy` from the stacks' outputs.
window.LunoraApp = {
  config() {
    const c = window.LUNORA_CONFIG;
    if (!c || !c.apiUrl) throw new Error('config.js is missing or has no apiUrl: run castform deploy');
    return c;
  },
  api(path) {
    return this.config().apiUrl.replace(/\/$/, '') + path;
  },
  async health(el) {
    try {
      const res = await fetch(this.api('/api/health'));
      const body = await res.json();
      el.textContent = `API ${body.status} (${this.config().environment}, version ${body.version})`;
    } catch (e) {
      el.textContent = `API unreachable: ${e.message}`;
    }
  },
  async list(path, key, el) {
    const res = await fetch(this.api(path));
    const body = await res.json();
    el.innerHTML = '';
    for (const item of body[key] || []) {
      const li = document.createElement('li');
      li.textContent = item.name || JSON.stringify(item);
      el.appendChild(li);
    }
  },
  player(video, label) {
    const url = this.config().hlsUrl;
    label.textContent = url ? url : 'no HLS stream in this environment';
    if (url && video.canPlayType('application/vnd.apple.mpegurl')) video.src = url;
  },

  // Operators sign in to the operators' user pool (the api stack's, admin-created users only):
  // Cognito's public InitiateAuth, as AWS's own browser SDK calls it, and the first-time
  // NEW_PASSWORD_REQUIRED challenge an administrator-created account answers. The access token
  // stays in this tab's sessionStorage and goes with each write in x-operator-token.
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html
  cognitoEndpoint() {
    const c = this.config();
    return c.cognitoEndpoint || `https://cognito-idp.${c.region}.amazonaws.com/`;
  },
  async cognito(action, body) {
    const res = await fetch(this.cognitoEndpoint(), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
    });
    const out = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(out.message || out.__type || `Cognito ${action} answered ${res.status}`);
    return out;
  },
  async signIn(email, password, newPassword) {
    const clientId = this.config().operatorsClientId;
    if (!clientId) throw new Error('config.js has no operatorsClientId: run castform deploy');
    let out = await this.cognito('InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: clientId,
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
    if (out.ChallengeName === 'NEW_PASSWORD_REQUIRED') {
      if (!newPassword) throw new Error('this account was created by an administrator: choose a new password');
      out = await this.cognito('RespondToAuthChallenge', {
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        ClientId: clientId,
        Session: out.Session,
        ChallengeResponses: { USERNAME: email, NEW_PASSWORD: newPassword },
      });
    }
    const token = out.AuthenticationResult && out.AuthenticationResult.AccessToken;
    if (!token) throw new Error(`sign-in asks for ${out.ChallengeName || 'another step'}, which this page does not offer`);
    window.sessionStorage.setItem('lunora.operatorToken', token);
    return token;
  },
  signedIn() {
    return Boolean(window.sessionStorage.getItem('lunora.operatorToken'));
  },
  signOut() {
    window.sessionStorage.removeItem('lunora.operatorToken');
  },
  // A write through the distribution: the operator's token, and the body's SHA-256, which
  // Lambda requires of a POST or PUT that CloudFront signs for a URL origin.
  async write(method, path, body) {
    const token = window.sessionStorage.getItem('lunora.operatorToken');
    if (!token) throw new Error('sign in first');
    const text = body === undefined ? '' : JSON.stringify(body);
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
    const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    const res = await fetch(this.api(path), {
      method,
      headers: { 'Content-Type': 'application/json', 'x-operator-token': token, 'x-amz-content-sha256': hash },
      body: text || undefined,
    });
    if (res.status === 401 || res.status === 403) this.signOut();
    return { status: res.status, body: await res.json().catch(() => null) };
  },
};
