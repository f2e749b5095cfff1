(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var T = data.table, H = T.hosts, R = T.rows;
  function str(i) { return function (r) { return r[i] === null ? '' : String(r[i]); }; }
  var COLS = [
    { k: 'host', l: 'Host', v: function (r) { return H[r[0]][0]; }, s: function (r) { return H[r[0]][2]; } },
    { k: 'name', l: 'Name', v: function (r) { return H[r[0]][1]; } },
    { k: 'port', l: 'Port', v: str(1), s: function (r) { return r[1] === null ? -1 : r[1]; }, n: true },
    { k: 'proto', l: 'Proto', v: str(2) },
    { k: 'state', l: 'State', v: str(3) },
    { k: 'service', l: 'Service', v: str(4) },
    { k: 'version', l: 'Version', v: str(5) },
    { k: 'cert', l: 'Certificate', v: str(6) },
    { k: 'os', l: 'OS', v: function (r) { return H[r[0]][3]; } },
    { k: 'findings', l: 'Findings', v: str(10) },
    { k: 'reason', l: 'Reason', v: str(7) },
    { k: 'ttl', l: 'TTL', v: str(8), s: function (r) { return r[8]; }, n: true }
  ];
  if (T.multi_scan) {
    COLS.push({ k: 'scan', l: 'Scan', v: str(9), s: function (r) { return r[9]; }, n: true });
  }
  var $ = function (id) { return document.getElementById(id); };
  var tbody = document.querySelector('#ports tbody');
  var headRow = document.querySelector('#ports thead tr');
  var st = { terms: [], state: '', sort: -1, dir: 1, page: 0, size: 100 };
  var view = null, hay = null;
  var PRINT_CAP = data.print_cap;

  COLS.forEach(function (c, i) {
    var th = document.createElement('th');
    th.textContent = c.l;
    th.scope = 'col';
    th.tabIndex = 0;
    th.dataset.col = c.k;
    var go = function () { sortBy(i); };
    th.addEventListener('click', go);
    th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); } });
    headRow.appendChild(th);
  });

  function haystack(i) {
    if (!hay) { hay = new Array(R.length); }
    var h = hay[i];
    if (h === undefined) {
      var r = R[i], parts = [];
      for (var c = 0; c < COLS.length; c++) { parts.push(COLS[c].v(r)); }
      var p = r[1] === null ? '' : ' ' + r[1] + '/' + r[2];
      h = hay[i] = (parts.join('\u0001') + p).toLowerCase();
    }
    return h;
  }

  function compute() {
    var out = [];
    for (var i = 0; i < R.length; i++) {
      if (st.state && R[i][3] !== st.state) { continue; }
      var ok = true;
      for (var t = 0; t < st.terms.length && ok; t++) { ok = haystack(i).indexOf(st.terms[t]) >= 0; }
      if (ok) { out.push(i); }
    }
    if (st.sort >= 0) {
      var c = COLS[st.sort], key = c.s || c.v, dir = st.dir;
      var keys = new Array(R.length);
      out.forEach(function (i) { keys[i] = key(R[i]); });
      out.sort(function (a, b) {
        var x = keys[a], y = keys[b];
        return (x < y ? -dir : x > y ? dir : 0) || a - b;
      });
    }
    view = out;
  }

  function cell(tr, c, r) {
    var td = document.createElement('td');
    var text = c.v(r);
    td.textContent = text;
    td.className = 'c-' + c.k + (c.n ? ' num' : '');
    if (c.k === 'state' && text) { td.className += ' st st-' + text.replace(/[^a-z]/g, ''); }
    tr.appendChild(td);
  }

  function rowsFrom(start, end) {
    var frag = document.createDocumentFragment();
    for (var j = start; j < end; j++) {
      var r = R[view[j]], tr = document.createElement('tr');
      for (var c = 0; c < COLS.length; c++) { cell(tr, COLS[c], r); }
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
  }

  function render() {
    var pages = Math.max(1, Math.ceil(view.length / st.size));
    st.page = Math.min(st.page, pages - 1);
    var start = st.page * st.size, end = Math.min(view.length, start + st.size);
    rowsFrom(start, end);
    var ports = 0;
    for (var j = 0; j < view.length; j++) { if (R[view[j]][1] !== null) { ports++; } }
    var count = $('count');
    count.dataset.shown = String(end - start);
    count.dataset.matching = String(view.length);
    count.dataset.matchingPorts = String(ports);
    count.textContent = (view.length ? (start + 1) + '\u2013' + end : '0') + ' of ' + view.length +
      ' rows (' + ports + ' ports' + (view.length === R.length ? '' : ', filtered from ' + R.length + ' rows') + ')';
    $('page').textContent = 'Page ' + (st.page + 1) + ' of ' + pages;
    $('prev').disabled = st.page === 0;
    $('next').disabled = st.page >= pages - 1;
  }

  function refresh() { compute(); render(); }

  function sortBy(i) {
    st.dir = st.sort === i ? -st.dir : 1;
    st.sort = i;
    Array.prototype.forEach.call(headRow.children, function (th, j) {
      if (j === i) { th.setAttribute('aria-sort', st.dir > 0 ? 'ascending' : 'descending'); } else { th.removeAttribute('aria-sort'); }
    });
    refresh();
  }

  var timer = 0;
  $('filter').addEventListener('input', function (e) {
    clearTimeout(timer);
    timer = setTimeout(function () {
      st.terms = e.target.value.toLowerCase().split(/\s+/).filter(Boolean);
      st.page = 0;
      refresh();
    }, 120);
  });
  $('state-filter').addEventListener('change', function (e) { st.state = e.target.value; st.page = 0; refresh(); });
  $('prev').addEventListener('click', function () { st.page--; render(); });
  $('next').addEventListener('click', function () { st.page++; render(); });
  $('page-size').addEventListener('change', function (e) { st.size = parseInt(e.target.value, 10) || 100; st.page = 0; render(); });

  // A cell that starts like a formula is prefixed with ' so a spreadsheet
  // shows it as text: banners come from the network.
  function csvCell(s) {
    if (/^[=+\-@\t\r]/.test(s)) { s = "'" + s; }
    return '"' + s.replace(/"/g, '""') + '"';
  }
  $('csv').addEventListener('click', function () {
    var lines = [COLS.map(function (c) { return csvCell(c.l); }).join(',')];
    for (var j = 0; j < view.length; j++) {
      var r = R[view[j]];
      lines.push(COLS.map(function (c) { return csvCell(c.v(r)); }).join(','));
    }
    var blob = new Blob([lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'portolan-report.csv';
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  });

  window.addEventListener('beforeprint', function () { rowsFrom(0, Math.min(view.length, PRINT_CAP)); });
  window.addEventListener('afterprint', render);

  // A link can preset the view: #filter=ssh&state=open&sort=-port
  // (a leading '-' sorts descending).
  (function (hash) {
    var q = new URLSearchParams(hash.replace(/^#/, ''));
    if (q.get('filter')) {
      $('filter').value = q.get('filter');
      st.terms = q.get('filter').toLowerCase().split(/\s+/).filter(Boolean);
    }
    if (q.get('state')) { st.state = $('state-filter').value = q.get('state'); }
    var key = q.get('sort') || '', desc = key.charAt(0) === '-';
    var i = COLS.findIndex(function (c) { return c.k === key.replace(/^-/, ''); });
    if (i >= 0) { st.sort = -1; sortBy(i); if (desc) { sortBy(i); } }
  })(location.hash);
  if (st.sort < 0) { refresh(); }
  document.body.dataset.ready = '1';
  document.body.dataset.readyMs = String(Math.round(performance.now()));
})();
