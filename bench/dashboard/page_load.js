// Page load of the dashboard in headless Chromium, in real time: navigation start to the
// first complete drawing (the page's data-load-ms), over the DevTools protocol.
// Usage: node --experimental-websocket bench/dashboard/page_load.js URL [RUNS]
// With SHOT=<file.png> (and SHOT_AFTER_MS, default 20000): after the last load, keeps the
// page open that long in real time and saves a 1200x1300 screenshot (the README's).
'use strict';
const {spawn} = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const url = process.argv[2], runs = Number(process.argv[3] || 5);
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function once(i) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-load-'));
  const chrome = spawn('chromium', ['--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-port=0',
                                    '--window-size=1200,1300', '--hide-scrollbars', '--user-data-dir=' + profile,
                                    'about:blank'], {stdio: 'ignore'});
  try {
    let port;
    for (let k = 0; k < 200 && !port; ++k) {
      try { port = fs.readFileSync(path.join(profile, 'DevToolsActivePort'), 'utf8').split('\n')[0]; } catch (e) { await sleep(50); }
    }
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const ws = new WebSocket(targets.find(t => t.type === 'page').webSocketDebuggerUrl);
    await new Promise(r => ws.addEventListener('open', r));
    let id = 0;
    const pending = new Map();
    ws.addEventListener('message', m => {
      const msg = JSON.parse(m.data);
      if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg.result); pending.delete(msg.id); }
    });
    const call = (method, params) => new Promise(r => { pending.set(++id, r); ws.send(JSON.stringify({id, method, params})); });
    await call('Page.enable', {});
    await call('Page.navigate', {url});
    for (let k = 0; k < 600; ++k) {
      const r = await call('Runtime.evaluate', {expression:
        "document.body && document.body.getAttribute('data-load-ms') + ' ' + document.body.getAttribute('data-drawn-epoch') + ' ' + document.querySelectorAll('article.card[data-rows]').length", returnByValue: true});
      const v = r && r.result && r.result.value;
      if (v && !v.startsWith('null')) {
        const [ms, epoch, cards] = v.split(' ');
        console.log(`run ${i}: first complete drawing ${ms} ms (epoch ${epoch}, ${cards} cards)`);
        if (process.env.SHOT && i === runs) {
          await sleep(Number(process.env.SHOT_AFTER_MS || 20000));
          const shot = await call('Page.captureScreenshot', {format: 'png'});
          fs.writeFileSync(process.env.SHOT, Buffer.from(shot.data, 'base64'));
        }
        ws.close();
        return Number(ms);
      }
      await sleep(20);
    }
    console.log(`run ${i}: not drawn within 12 s`);
    return NaN;
  } finally {
    chrome.kill('SIGKILL');
    await new Promise(r => chrome.once('exit', r));
    fs.rmSync(profile, {recursive: true, force: true, maxRetries: 5});
  }
}

(async () => {
  const times = [];
  for (let i = 1; i <= runs; ++i) times.push(await once(i));
  times.sort((a, b) => a - b);
  console.log(`median ${times[Math.floor(times.length / 2)]} ms over ${runs} loads`);
  process.exit(0);
})();
