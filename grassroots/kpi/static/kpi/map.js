// Communes as points at their centroids, coloured red/amber/green by the chosen indicator.
// Offline by default; a base layer only when the province configured a tile server. Points
// closer than a few pixels are drawn as one cluster (a small grid clustering, no plugin).
(function () {
  const el = document.getElementById("kpi-map");
  if (!el || !window.L) return;
  const points = JSON.parse(document.getElementById("kpi-points").textContent);
  const colours = { green: "#198754", amber: "#ffc107", red: "#dc3545", "": "#6c757d" };
  const map = L.map(el, { attributionControl: false });
  if (el.dataset.tiles) L.tileLayer(el.dataset.tiles, { maxZoom: Number(el.dataset.maxZoom) || 18 }).addTo(map);
  const layer = L.featureGroup().addTo(map);
  const cell = 28;
  function draw() {
    layer.clearLayers();
    const groups = new Map();
    for (const p of points) {
      const xy = map.latLngToLayerPoint([p.lat, p.lon]);
      const key = `${Math.floor(xy.x / cell)}:${Math.floor(xy.y / cell)}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(p);
    }
    for (const group of groups.values()) {
      if (group.length > 1 && map.getZoom() < 12) {
        const lat = group.reduce((s, p) => s + p.lat, 0) / group.length;
        const lon = group.reduce((s, p) => s + p.lon, 0) / group.length;
        const icon = L.divIcon({ className: "kpi-cluster", html: "", iconSize: [30, 30] });
        const m = L.marker([lat, lon], { icon });
        m.on("add", () => { m.getElement().textContent = String(group.length); });
        m.on("click", () => map.setView([lat, lon], map.getZoom() + 2));
        m.addTo(layer);
        continue;
      }
      for (const p of group) {
        const m = L.circleMarker([p.lat, p.lon], {
          radius: 8, color: "#333", weight: 1, fillColor: colours[p.rag] || colours[""], fillOpacity: 0.9,
        });
        const label = document.createElement("span");  // text, never HTML
        label.textContent = `${p.name}: ${p.value === null ? el.dataset.noData : p.value + " " + el.dataset.unit}`;
        m.bindTooltip(label, { permanent: map.getZoom() >= 11, className: "kpi-label", direction: "top" });
        m.addTo(layer);
      }
    }
  }
  if (points.length) map.fitBounds(L.latLngBounds(points.map((p) => [p.lat, p.lon])).pad(0.1));
  else map.setView([20.65, 106.25], 9);
  map.on("zoomend", draw);
  draw();
})();
