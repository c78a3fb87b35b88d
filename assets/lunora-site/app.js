// Reads window.LUNORA_CONFIG, written by `castform deploy` from the stacks' outputs.
window.LunoraApp = {
  config() {
    const c = window.LUNORA_CONFIG;
    if (!c || !c.apiUrl) throw new Error('config.js is missing or has no apiUrl: run castform deploy');
    return c;
  },
  async health(el) {
    try {
      const res = await fetch(this.config().apiUrl.replace(/\/$/, '') + '/api/health');
      const body = await res.json();
      el.textContent = `API ${body.status} (${this.config().environment}, version ${body.version})`;
    } catch (e) {
      el.textContent = `API unreachable: ${e.message}`;
    }
  },
  async list(path, key, el) {
    const res = await fetch(this.config().apiUrl.replace(/\/$/, '') + path);
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
};
