// Province dashboard: the chosen indicator over the period, against the same period last year.
(function () {
  const el = document.getElementById("kpi-chart");
  const src = document.getElementById("kpi-chart-data");
  if (!el || !src || !window.Chart) return;
  const data = JSON.parse(src.textContent);
  const labels = data.points.map((p) => p[0].split("-").reverse().join("/"));
  new Chart(el, {
    type: "line",
    data: {
      labels,
      datasets: [
        { label: data.label, data: data.points.map((p) => p[1]), borderColor: "#0d6efd", spanGaps: true },
        { label: "Cùng kỳ năm trước", data: data.last_year.map((p) => p[1]), borderColor: "#adb5bd",
          borderDash: [4, 4], spanGaps: true },
      ],
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      scales: { y: { title: { display: true, text: data.unit } } },
    },
  });
})();
