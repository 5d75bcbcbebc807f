// The pinstream dashboard: reads the JSON API, redraws when an epoch commits (the
// /api/events stream), keeps the last minutes of rates and latencies in the page.
// Every value from the server reaches the DOM through textContent, never as markup.
'use strict';

const HISTORY_MS = 10 * 60 * 1000;
const MAX_BARS = 20;
const MAX_SERIES = 6;
const COLORS = ['#c8232c', '#2b6cb0', '#1f9d55', '#d69e2e', '#805ad5', '#319795', '#dd6b20'];
const token = new URLSearchParams(location.hash.slice(1)).get('token');
const history = [];       // {t, read, epochSum, epochCount, commitSum, commitCount}
const cards = new Map();  // view name -> {root, chart, table, sort}
let rateChart = null, latencyChart = null;

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

async function get(path, asText) {
  const headers = token ? {Authorization: 'Bearer ' + token} : {};
  const r = await fetch(path, {headers, cache: 'no-store'});
  if (!asText && !r.ok && r.headers.get('content-type') !== 'application/json')
    throw new Error(path + ': HTTP ' + r.status);
  return asText ? r.text() : r.json();
}

function showError(msg) {
  const f = document.getElementById('error');
  f.hidden = !msg;
  f.textContent = msg || '';
}

function fmt(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return v.toFixed(2);
    return Math.abs(v) >= 10000 ? v.toLocaleString('en-US') : String(v);  // years stay 2018
  }
  return String(v);
}

function fmtBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; ++i; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
}

function fillRows(tbody, rows) {
  const frag = document.createDocumentFragment();
  for (const r of rows) {
    const tr = el('tr');
    for (const v of r) tr.appendChild(el('td', typeof v === 'number' ? {class: 'num'} : {}, fmt(v)));
    frag.appendChild(tr);
  }
  tbody.replaceChildren(frag);
}

// A table whose header cells sort its rows (numbers numerically), remembered across redraws.
function sortableTable(columns, state) {
  const table = el('table', {class: 'data'});
  const tr = el('tr');
  columns.forEach((c, i) => {
    const th = el('th', {}, c);
    th.addEventListener('click', () => {
      state.desc = state.col === i ? !state.desc : false;
      state.col = i;
      state.redraw();
    });
    tr.appendChild(th);
  });
  table.appendChild(el('thead')).appendChild(tr);
  table.appendChild(el('tbody'));
  return table;
}

function sortedRows(rows, state) {
  if (state.col === null) return rows;
  const i = state.col, sign = state.desc ? -1 : 1;
  return rows.slice().sort((a, b) => {
    const x = a[i], y = b[i];
    if (typeof x === 'number' && typeof y === 'number') return sign * (x - y);
    return sign * String(x ?? '').localeCompare(String(y ?? ''));
  });
}

// Which drawing suits an answer: windowed views over time, one measure per label as bars.
function chartKind(answer) {
  const cols = answer.columns, rows = answer.rows;
  if (rows.length < 2) return null;
  if (cols.includes('window_start')) return 'line';
  return rows.every(r => typeof r[r.length - 1] === 'number') && cols.length >= 2 ? 'bar' : null;
}

// Bars in the view's own order (years, age groups); past MAX_BARS the largest ones.
function barData(answer) {
  let rows = answer.rows;
  if (rows.length > MAX_BARS)
    rows = rows.slice().sort((a, b) => b[b.length - 1] - a[a.length - 1]).slice(0, MAX_BARS);
  return {
    labels: rows.map(r => r.slice(0, -1).map(fmt).join(' · ')),
    datasets: [{label: answer.columns[answer.columns.length - 1], data: rows.map(r => r[r.length - 1]),
                backgroundColor: COLORS[0]}],
  };
}

function lineData(answer) {
  const cols = answer.columns, w = cols.indexOf('window_start'), m = cols.length - 1;
  const s = cols.findIndex((c, i) => i !== w && i !== m);
  const times = [...new Set(answer.rows.map(r => r[w]))].sort();
  const totals = new Map();
  for (const r of answer.rows) {
    const k = s < 0 ? cols[m] : String(r[s]);
    totals.set(k, (totals.get(k) || 0) + r[m]);
  }
  const series = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, MAX_SERIES).map(e => e[0]);
  const datasets = series.map((name, i) => {
    const byTime = new Map();
    for (const r of answer.rows) if ((s < 0 ? cols[m] : String(r[s])) === name) byTime.set(r[w], r[m]);
    return {label: name, data: times.map(t => byTime.get(t) ?? 0), borderColor: COLORS[i % COLORS.length],
            backgroundColor: COLORS[i % COLORS.length] + '33', fill: true, tension: 0.2, pointRadius: 0};
  });
  return {labels: times.map(t => String(t).replace('T', ' ').slice(0, 16)), datasets};
}

function drawChart(card, answer) {
  const kind = chartKind(answer);
  if (!kind || typeof Chart === 'undefined') return;
  const data = kind === 'bar' ? barData(answer) : lineData(answer);
  if (card.chart && card.chart.config.type === kind) {
    card.chart.data = data;
    card.chart.update('none');
    return;
  }
  const box = el('div', {class: 'chart-box'});
  const canvas = el('canvas');
  box.appendChild(canvas);
  card.root.insertBefore(box, card.tableBox);
  card.chart = new Chart(canvas, {
    type: kind, data,
    options: {animation: false, maintainAspectRatio: false, indexAxis: 'x',
              plugins: {legend: {display: kind === 'line'}},
              scales: {x: {ticks: {autoSkip: true, maxRotation: 60}}, y: {beginAtZero: true}}},
  });
}

function viewCard(name) {
  let card = cards.get(name);
  if (!card) {
    const root = el('article', {class: 'card', 'data-view': name});
    const head = el('header');
    head.appendChild(el('h3', {}, name));
    const meta = el('span', {class: 'meta'});
    head.appendChild(meta);
    root.appendChild(head);
    const tableBox = el('div', {class: 'scroll'});
    root.appendChild(tableBox);
    card = {root, meta, tableBox, chart: null, table: null, columns: '', answer: null,
            sort: {col: null, desc: false}};
    card.sort.redraw = () => drawTable(card);
    cards.set(name, card);
    document.getElementById('views').appendChild(root);
  }
  return card;
}

function drawTable(card) {
  const a = card.answer;
  if (!card.table || card.columns !== a.columns.join('\u0000')) {
    card.table = sortableTable(a.columns, card.sort);
    card.tableBox.replaceChildren(card.table);
    card.columns = a.columns.join('\u0000');
  }
  card.table.querySelectorAll('th').forEach((th, i) => {
    th.className = card.sort.col === i ? (card.sort.desc ? 'sorted-desc' : 'sorted-asc') : '';
  });
  fillRows(card.table.tBodies[0], sortedRows(a.rows, card.sort));
}

function drawView(name, answer) {
  const card = viewCard(name);
  card.meta.replaceChildren();
  if (!answer.ok) {
    card.meta.textContent = (answer.error && answer.error.message) || 'error';
    card.root.setAttribute('data-error', (answer.error && answer.error.code) || 'error');
    return;
  }
  card.root.removeAttribute('data-error');
  card.root.setAttribute('data-epoch', answer.epoch);
  card.root.setAttribute('data-rows', answer.rows.length);
  card.meta.appendChild(el('span', {}, 'epoch ' + answer.epoch + ' · ' + answer.rows.length + ' rows · '));
  const csv = el('a', {href: '/api/views/' + encodeURIComponent(name) + '?format=csv',
                       download: name + '.csv'}, 'CSV');
  card.meta.appendChild(csv);
  card.answer = answer;
  drawTable(card);
  drawChart(card, answer);
}

async function refreshViews() {
  const list = await get('/api/views');
  if (!list.ok) throw new Error('views: ' + (list.error && list.error.message));
  for (const name of list.views) viewCard(name);  // cards in the pipeline's order
  await Promise.all(list.views.map(async name => {
    drawView(name, await get('/api/views/' + encodeURIComponent(name)));
  }));
}

// Prometheus text -> {name{labels}: value} for the few series the page charts.
function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const sp = line.lastIndexOf(' ');
    out[line.slice(0, sp)] = Number(line.slice(sp + 1));
  }
  return out;
}

function sumPrefix(m, prefix) {
  let s = 0;
  for (const [k, v] of Object.entries(m)) if (k.startsWith(prefix)) s += v;
  return s;
}

function drawHealth(stats, metrics) {
  document.getElementById('epoch').textContent = fmt(stats.epoch);
  document.getElementById('committed').textContent = (stats.committed_at || '–').replace('T', ' ');
  document.getElementById('uptime').textContent = fmt(stats.uptime) + ' s';
  const unit = stats.lag_unit ? ' ' + stats.lag_unit : '';
  fillRows(document.querySelector('#streams tbody'), Object.entries(stats.streams).map(([name, c]) =>
    [name, c.read, c.clean, c.dead, c.duplicates, c.late, c.lag === null ? '–' : fmt(c.lag) + unit]));
  document.getElementById('streams').setAttribute('data-epoch', stats.epoch);
  const m = parseMetrics(metrics);
  const now = Date.now();
  history.push({t: now, read: sumPrefix(m, 'pinstream_records_read_total{'),
                epochSum: m.pinstream_epoch_duration_seconds_sum || 0,
                epochCount: m.pinstream_epoch_duration_seconds_count || 0,
                commitSum: m.pinstream_commit_duration_seconds_sum || 0,
                commitCount: m.pinstream_commit_duration_seconds_count || 0});
  while (history.length && history[0].t < now - HISTORY_MS) history.shift();
  drawHistory();
}

// Counters move once per epoch, so each point is measured over at least RATE_WINDOW_MS
// (from the newest sample that old), not between two samples that straddle one commit.
const RATE_WINDOW_MS = 5000;
function historyPoints() {
  const labels = [], rate = [], epochMs = [], commitMs = [];
  let j = 0;
  for (let i = 1; i < history.length; ++i) {
    const b = history[i];
    while (j + 1 < i && history[j + 1].t <= b.t - RATE_WINDOW_MS) ++j;
    const a = history[j], dt = (b.t - a.t) / 1000;
    if (dt <= 0) continue;
    labels.push(new Date(b.t).toLocaleTimeString());
    rate.push(Math.max(0, (b.read - a.read) / dt));
    const ec = b.epochCount - a.epochCount, cc = b.commitCount - a.commitCount;
    epochMs.push(ec > 0 ? 1000 * (b.epochSum - a.epochSum) / ec : null);
    commitMs.push(cc > 0 ? 1000 * (b.commitSum - a.commitSum) / cc : null);
  }
  return {labels, rate, epochMs, commitMs};
}

function lineChart(id, datasets) {
  return new Chart(document.getElementById(id), {
    type: 'line', data: {labels: [], datasets},
    options: {animation: false, maintainAspectRatio: false, spanGaps: true,
              scales: {y: {beginAtZero: true}}, elements: {point: {radius: 0}}},
  });
}

function drawHistory() {
  if (typeof Chart === 'undefined') return;
  const p = historyPoints();
  if (!rateChart) {
    rateChart = lineChart('rate', [{label: 'records/s', data: [], borderColor: COLORS[0],
                                    backgroundColor: COLORS[0] + '33', fill: true}]);
    latencyChart = lineChart('latency', [{label: 'epoch', data: [], borderColor: COLORS[1]},
                                         {label: 'commit', data: [], borderColor: COLORS[2]}]);
  }
  rateChart.data.labels = p.labels;
  rateChart.data.datasets[0].data = p.rate;
  latencyChart.data.labels = p.labels;
  latencyChart.data.datasets[0].data = p.epochMs;
  latencyChart.data.datasets[1].data = p.commitMs;
  rateChart.update('none');
  latencyChart.update('none');
}

function drawTables(t) {
  fillRows(document.querySelector('#tables tbody'), (t.tables || []).map(x =>
    [x.name, x.version, x.files, fmtBytes(x.bytes || 0), (x.last_commit || '').replace('T', ' ')]));
}

function drawDead(d) {
  document.getElementById('dead-note').textContent = d.note || '';
  fillRows(document.querySelector('#dead-reasons tbody'), (d.by_reason || []).map(r => [r.reason, r.count]));
  const body = document.querySelector('#dead-samples tbody');
  fillRows(body, (d.samples || []).map(s => [s.stream, s.position, s.reason, s.raw]));
  for (const tr of body.rows) tr.cells[3].className = 'raw';
}

function drawCheckpoints(c) {
  fillRows(document.querySelector('#checkpoints tbody'),
           (c.checkpoints || []).slice().reverse().map(x => [x.id, x.epoch, (x.time || '').replace('T', ' ')]));
}

async function refreshAll() {
  const [stats, metrics] = await Promise.all([get('/api/stats'), get('/metrics', true)]);
  drawHealth(stats, metrics);
  await refreshViews();
  const [tables, dead, checkpoints] = await Promise.all(
    [get('/api/tables'), get('/api/dead-letters?limit=20'), get('/api/checkpoints')]);
  drawTables(tables);
  drawDead(dead);
  drawCheckpoints(checkpoints);
  document.body.setAttribute('data-drawn-epoch', stats.epoch);
  // Time from navigation to the first complete drawing (read by tests and measurements).
  if (!document.body.hasAttribute('data-load-ms'))
    document.body.setAttribute('data-load-ms', String(Math.round(performance.now())));
}

// One refresh at a time; an epoch announced meanwhile causes exactly one more.
let running = false, again = false;
async function refresh() {
  if (running) { again = true; return; }
  running = true;
  try {
    await refreshAll();
    showError('');
  } catch (e) {
    showError('cannot reach the daemon: ' + e.message);
  } finally {
    running = false;
    if (again) { again = false; setTimeout(refresh, 250); }
  }
}

// Server-Sent Events read with fetch, so that a token can ride along as a header.
async function listen() {
  const dot = document.getElementById('live');
  try {
    const r = await fetch('/api/events', {headers: token ? {Authorization: 'Bearer ' + token} : {}});
    if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
    dot.classList.add('on');
    const reader = r.body.getReader(), dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buf += dec.decode(value, {stream: true});
      let at;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const ev = buf.slice(0, at);
        buf = buf.slice(at + 2);
        if (ev.split('\n').some(l => l.startsWith('event: epoch'))) refresh();
      }
    }
  } catch (e) {
    // fall through: retry below
  }
  dot.classList.remove('on');
  setTimeout(listen, 2000);
}

// Rates need two samples: one a second after the first, then every few seconds even when
// no epoch commits (an idle pipeline reads nothing, which is worth a point too).
async function sampleHealth() {
  if (running) return;
  try {
    const [stats, metrics] = await Promise.all([get('/api/stats'), get('/metrics', true)]);
    drawHealth(stats, metrics);
  } catch (e) {
    // the next refresh reports it
  }
}

refresh();
listen();
setTimeout(sampleHealth, 1000);
setInterval(sampleHealth, 5000);
