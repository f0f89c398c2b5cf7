// Quarterly trend charts of the indicators dashboard (ECharts, served locally).
(function () {
  const data = JSON.parse(document.getElementById("trend-data").textContent);
  const labels = JSON.parse(document.getElementById("trend-labels").textContent);
  const indicators = JSON.parse(document.getElementById("trend-indicators").textContent);
  for (const indicator of indicators) {
    const el = document.getElementById("trend-" + indicator.code);
    if (!el || typeof echarts === "undefined") continue;
    const chart = echarts.init(el);
    chart.setOption({
      title: { text: indicator.name + "（" + indicator.unit + "）", textStyle: { fontSize: 13 } },
      tooltip: { trigger: "axis", valueFormatter: (v) => (v == null ? "—" : Number(v).toFixed(2)) },
      grid: { left: 45, right: 10, top: 35, bottom: 45 },
      xAxis: { type: "category", data: labels, axisLabel: { rotate: 30, fontSize: 10 } },
      yAxis: { type: "value", scale: true },
      series: [{ type: "line", data: data[indicator.code], connectNulls: false, symbolSize: 6 }],
    });
    window.addEventListener("resize", () => chart.resize());
  }
})();
