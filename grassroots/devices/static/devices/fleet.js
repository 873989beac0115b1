// Fleet map (Leaflet and Leaflet.markercluster, vendored): commune points and names from the
// unit tree, device markers coloured by status and clustered (devices at one point open as a
// spider on click), a base layer only when the province configures its tile server. With none
// the map asks nothing of the network: a plain background, communes and devices.
(function () {
  "use strict";
  const el = document.getElementById("fleet-map");
  const source = document.getElementById("fleet-map-data");
  if (!el || !source || !window.L) return;
  const data = JSON.parse(source.textContent);
  const tiles = data.tiles;
  const maxZoom = tiles ? tiles.max_zoom : 16;
  const map = L.map(el, {
    attributionControl: Boolean(tiles), maxZoom: maxZoom, minZoom: 6, zoomSnap: 0.25,
  });
  if (tiles) {
    const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    // Leaflet writes attributions as HTML: the setting is text, so it is escaped here
    L.tileLayer(tiles.url, { maxZoom: maxZoom, attribution: escape(tiles.attribution) }).addTo(map);
  } else {
    el.classList.add("fleet-map-plain");
  }

  function text(value) {  // a node holding text, never HTML
    const span = document.createElement("span");
    span.textContent = value;
    return span;
  }

  const communes = L.layerGroup().addTo(map);
  for (const c of data.communes) {
    const dot = L.circleMarker([c.lat, c.lon], {
      radius: 3, color: "#5c6b7a", weight: 1, fillColor: "#5c6b7a", fillOpacity: 0.7,
      interactive: false, className: "commune-point",
    });
    dot.bindTooltip(text(c.name), {
      permanent: true, direction: "right", offset: [4, 0], className: "commune-label",
    });
    dot.addTo(communes);
  }
  // Names of 100 communes at the province's zoom would cover each other: they show from
  // zoom 11, or at once when the user's scope has only a few communes.
  const few = data.communes.length <= 12;
  const labels = () => el.classList.toggle("show-labels", few || map.getZoom() >= 11);
  map.on("zoomend", labels);

  function status(p) {
    if (!p.online) return "is-offline";
    return p.faults ? "is-fault" : "is-online";
  }

  const devices = L.markerClusterGroup({
    maxClusterRadius: 36,
    showCoverageOnHover: false,
    spiderfyOnMaxZoom: true,
    iconCreateFunction(cluster) {
      const children = cluster.getAllChildMarkers();
      const online = children.filter((m) => m.options.online).length;
      const fault = children.some((m) => m.options.faults > 0);
      let cls = online === children.length ? "is-online" : online ? "is-mixed" : "is-offline";
      if (fault) cls += " has-fault";
      return L.divIcon({
        html: `<span>${online}/${children.length}</span>`,  // two numbers
        className: `device-cluster ${cls}`,
        iconSize: L.point(38, 38),
      });
    },
  });
  for (const p of data.devices) {
    const marker = L.marker([p.lat, p.lon], {
      icon: L.divIcon({ className: `device-marker ${status(p)}`, iconSize: L.point(16, 16) }),
      title: `${p.name} — ${p.unit}`,  // an attribute, set as text by Leaflet
      online: p.online,
      faults: p.faults,
    });
    marker.bindTooltip(text(`${p.name} — ${p.unit}`));
    devices.addLayer(marker);
  }
  map.addLayer(devices);

  // Fit what the user has: their communes and devices. One point (one commune, its devices at
  // its centroid) has bounds of zero size: centre on it instead of zooming in without end.
  const points = data.devices.concat(data.communes);
  if (points.length) {
    const bounds = L.latLngBounds(points.map((p) => [p.lat, p.lon]));
    if (bounds.getNorthEast().equals(bounds.getSouthWest())) map.setView(bounds.getCenter(), 13);
    else map.fitBounds(bounds.pad(0.15), { maxZoom: 13 });
  } else {
    map.setView([20.65, 106.25], 9);  // Hưng Yên
  }
  labels();
})();
