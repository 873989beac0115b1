// Fleet map: one marker per device, green online, grey offline (Leaflet, no tile server needed).
(function () {
  const el = document.getElementById("fleet-map");
  if (!el || !window.L) return;
  const points = JSON.parse(document.getElementById("fleet-points").textContent);
  const map = L.map(el, { attributionControl: false });
  const layer = L.featureGroup().addTo(map);
  for (const p of points) {
    const m = L.circleMarker([p.lat, p.lon], {
      radius: 6, color: p.online ? "#198754" : "#6c757d", fillOpacity: 0.8,
    });
    const label = document.createElement("span");
    label.textContent = `${p.name} — ${p.unit}`;  // text, never HTML
    m.bindTooltip(label);
    m.addTo(layer);
  }
  if (points.length) map.fitBounds(layer.getBounds().pad(0.2));
  else map.setView([20.65, 106.25], 9);
})();
