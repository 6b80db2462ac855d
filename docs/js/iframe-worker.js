/* A stand-in for Web Workers in a site opened from disk (file://), where Chromium refuses to
   start a worker: Material's search runs its worker script in a hidden iframe of the page
   instead, and messages pass between the two as they would with a worker. Loaded before
   Material's bundle (mkdocs.yml: extra.polyfills), and only on file:// pages; served over
   HTTP the real Worker is used. This replaces the shim that Material's offline plugin would
   fetch from unpkg.com, so the site needs no network at all. */
(function () {
  "use strict";
  if (location.protocol !== "file:") return;

  class IFrameWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.onerror = null;
      this._queue = [];
      this._frame = document.createElement("iframe");
      this._frame.hidden = true;
      document.body.appendChild(this._frame);
      const scope = this._frame.contentWindow;
      // The worker's global scope: postMessage answers the page, importScripts loads in order.
      scope.postMessage = (data) => setTimeout(() => this._deliver(data));
      scope.importScripts = (...urls) =>
        urls.reduce((loaded, src) => loaded.then(() => this._load(src)), Promise.resolve());
      this._load(`${new URL(url, location.href)}`).then(() => {
        const waiting = this._queue;
        this._queue = null;
        waiting.forEach((data) => this.postMessage(data));
      });
    }

    _load(src) {
      return new Promise((resolve, reject) => {
        const script = this._frame.contentDocument.createElement("script");
        script.src = src;
        script.onload = resolve;
        script.onerror = () => reject(new Error(`cannot load ${src}`));
        this._frame.contentDocument.head.appendChild(script);
      });
    }

    _deliver(data) {
      const event = new MessageEvent("message", { data });
      if (typeof this.onmessage === "function") this.onmessage(event);
      this.dispatchEvent(event);
    }

    postMessage(data) {
      if (this._queue) {
        this._queue.push(data);
        return;
      }
      const scope = this._frame.contentWindow;
      setTimeout(() => scope.dispatchEvent(new scope.MessageEvent("message", { data })));
    }

    terminate() {
      this._frame.remove();
    }
  }

  window.IFrameWorker = IFrameWorker;
  window.Worker = IFrameWorker;
})();
