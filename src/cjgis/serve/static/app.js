// cjgis serve: the page only draws what the server answers (every number from what_if) and
// sends the planner's edits. Text from the data is set with textContent, never as HTML.
(function () {
  'use strict';
  var token = new URLSearchParams(window.location.search).get('token');
  var headers = {'Content-Type': 'application/json'};
  if (token) { headers['X-Cjgis-Token'] = token; }
  var state = null;
  var sortKey = null;
  var sortUp = true;
  var fitted = false;
  var body = document.body;

  var map = L.map('map', {zoomControl: true}).setView([30.27, 120.15], 13);
  if (body.dataset.tiles) { L.tileLayer(body.dataset.tiles, {maxZoom: 19}).addTo(map); }
  L.control.scale({imperial: false}).addTo(map);
  var streets = L.geoJSON(null, {interactive: false, style: {color: '#777', weight: 1, opacity: 0.6}});
  var water = L.geoJSON(null, {interactive: false,
    style: {color: '#64b5f6', weight: 1, fillColor: '#bbdefb', fillOpacity: 0.8}});
  water.addTo(map);
  streets.addTo(map);
  var byCommunity = {};  // community id -> its boundary's layer (drawn once)
  var communities = L.geoJSON(null, {
    style: {color: '#555', weight: 1, fillColor: '#ccc', fillOpacity: 0.5},
    onEachFeature: function (f, layer) {
      byCommunity[f.properties.community_id] = layer;
      layer.bindTooltip(textNode(f.properties.community_name));
    }
  }).addTo(map);
  var area = L.geoJSON(null, {
    interactive: false,
    style: {color: '#2e7d32', weight: 1, fillColor: '#66bb6a', fillOpacity: 0.25}
  }).addTo(map);
  var markers = L.layerGroup().addTo(map);

  function textNode(text) {
    var span = document.createElement('span');
    span.textContent = text;
    return span;
  }
  function $(id) { return document.getElementById(id); }
  function say(text, isError) {
    $('status').textContent = text;
    $('status').className = isError ? 'error' : '';
  }

  function call(method, path, payload) {
    body.dataset.busy = '1';
    var options = {method: method, headers: headers};
    if (payload !== undefined) { options.body = JSON.stringify(payload); }
    return fetch(path, options).then(function (response) {
      return response.json().then(function (data) {
        body.dataset.busy = '';
        if (!response.ok) {
          say((data && data.error) || ('HTTP ' + response.status), true);
          throw new Error(data && data.error);
        }
        return data;
      });
    }, function (err) { body.dataset.busy = ''; say(String(err), true); throw err; });
  }

  function show(data) {
    state = data;
    window.sessionStorage.setItem('cjgis-session', data.session);
    render();
  }

  function edit(change) {
    return call('POST', '/edits', {session: state.session, edit: change}).then(show);
  }

  function render() {
    var select = $('category');
    select.textContent = '';
    state.categories.forEach(function (c) {
      var option = document.createElement('option');
      option.value = c.key;
      option.textContent = c.name_zh + ' ' + c.name_en;
      option.selected = c.key === state.category;
      select.appendChild(option);
    });
    state.communities.forEach(function (c) {
      var layer = byCommunity[c.community_id];
      if (!layer) { return; }
      layer.setStyle({fillColor: c.fill || '#ccc'});
      var name = layer.feature.properties.community_name;
      layer.setTooltipContent(textNode([name, c.share, c.verdict].filter(Boolean).join(' · ')));
    });
    drawArea(state.session, state.edits, state.category);
    markers.clearLayers();
    state.facilities.forEach(function (f) {
      var marker = L.marker([f.lat, f.lon], {
        draggable: true,
        title: f.name,
        icon: L.divIcon({className: 'cjgis-facility ' + (f.change || ''), iconSize: [14, 14]})
      });
      marker.on('add', function () {
        var el = marker.getElement();
        el.dataset.id = f.facility_id;
        el.dataset.change = f.change || '';
      });
      marker.on('dragend', function () {
        var at = marker.getLatLng();
        edit({type: 'move', facility_id: f.facility_id, lon: at.lng, lat: at.lat}).catch(render);
      });
      marker.on('click', function () {
        var label = f.name + ' (' + f.facility_id + ')';
        if (window.confirm('删除 remove ' + label + '?')) {
          edit({type: 'remove', facility_id: f.facility_id}).catch(function () {});
        }
      });
      markers.addLayer(marker);
    });
    if (!fitted && communities.getLayers().length) {
      map.fitBounds(communities.getBounds(), {padding: [10, 10]});
      fitted = true;
    }
    renderTable();
    var lines = $('lines');
    lines.textContent = '';
    state.lines.forEach(function (line) {
      var li = document.createElement('li');
      li.textContent = line;
      lines.appendChild(li);
    });
    $('undo').disabled = !state.can_undo;
    $('redo').disabled = !state.can_redo;
    $('save').disabled = !state.edits;
    $('summary').textContent = state.summary;
    say(state.edits + ' 处修改 edits');
    body.dataset.edits = String(state.edits);
    body.dataset.category = state.category;
  }

  function drawArea(sid, edits, category) {
    // the service area follows the table (drawn apart on the server); a late one is dropped
    body.dataset.area = '';
    call('GET', '/area?session=' + encodeURIComponent(sid)).then(function (geojson) {
      if (state.edits !== edits || state.category !== category) { return; }
      area.clearLayers().addData(geojson);
      body.dataset.area = edits + ':' + category;
    }).catch(function () {});
  }

  function renderTable() {
    var rows = state.table.slice();
    if (sortKey) {
      rows.sort(function (a, b) {
        var x = a[sortKey], y = b[sortKey];
        if (x === y) { return 0; }
        if (x === null) { return 1; }
        if (y === null) { return -1; }
        return (x < y ? -1 : 1) * (sortUp ? 1 : -1);
      });
    }
    var tbody = document.querySelector('#table tbody');
    tbody.textContent = '';
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      tr.dataset.community = r.community_id;
      [r.community, r.share, r.verdict, r.change].forEach(function (value, i) {
        var td = document.createElement('td');
        td.textContent = value;
        if (i === 2) { td.className = r.status; td.title = r.reason; }  // why, as the scorecard says
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    document.querySelectorAll('#table th').forEach(function (th) {
      th.className = th.dataset.key === sortKey ? (sortUp ? 'up' : 'down') : '';
    });
  }

  function links(urls) {
    var list = $('files');
    list.textContent = '';
    Object.keys(urls).forEach(function (key) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = urls[key] + (token ? '?token=' + encodeURIComponent(token) : '');
      a.textContent = key + ': ' + urls[key].replace('/files/', '');
      a.target = '_blank';
      li.appendChild(a);
      list.appendChild(li);
    });
  }

  map.on('click', function (e) {
    var capacity = $('capacity').value;
    edit({
      type: 'add', lon: e.latlng.lng, lat: e.latlng.lat,
      name: $('name').value || null,
      capacity: capacity === '' ? null : Number(capacity)
    }).catch(function () {});
  });
  $('category').addEventListener('change', function (e) {
    edit({type: 'category', category: e.target.value}).catch(function () {});
  });
  $('undo').addEventListener('click', function () {
    call('POST', '/undo', {session: state.session}).then(show).catch(function () {});
  });
  $('redo').addEventListener('click', function () {
    call('POST', '/redo', {session: state.session}).then(show).catch(function () {});
  });
  $('save').addEventListener('click', function () {
    call('POST', '/save', {session: state.session}).then(function (data) {
      links({'scenario CSV': data.url, 'removed': data.removed_url});
      say('已保存 saved: ' + data.file);
    }).catch(function () {});
  });
  $('export').addEventListener('click', function () {
    say('导出中 exporting…');
    call('GET', '/export?session=' + encodeURIComponent(state.session)).then(function (data) {
      links(data.urls);
      say('已导出 exported: ' + Object.keys(data.files).length + ' files');
    }).catch(function () {});
  });
  document.querySelectorAll('#table th').forEach(function (th) {
    th.addEventListener('click', function () {
      sortUp = sortKey === th.dataset.key ? !sortUp : true;
      sortKey = th.dataset.key;
      renderTable();
    });
  });

  var known = window.sessionStorage.getItem('cjgis-session');
  var opened = call('GET', '/background').then(function (d) {
    if (d.water) { water.addData(d.water); }
    if (d.streets) { streets.addData(d.streets); }
    communities.addData(d.communities);
  }).then(function () {
    return known
    ? call('GET', '/state?session=' + encodeURIComponent(known)).catch(function () {
      return call('POST', '/sessions', {});
    })
    : call('POST', '/sessions', {});
  });
  opened.then(show).catch(function () {});
}());
