// The 上年结转 / 结转下年度 chain of an agency's years: each year's two totals, and the year
// before's 结转下年度 beside this year's 上年结转 (they should be equal; a break is marked).
document.addEventListener("DOMContentLoaded", () => {
  const data = document.getElementById("chain-data");
  if (!data || !window.echarts) return;
  const d = JSON.parse(data.textContent);
  const breaks = d.breaks.map((b) => ({ coord: [String(b.year), b.carried], value: `≠${b.before}` }));
  echarts.init(document.getElementById("chart-chain")).setOption({
    tooltip: { trigger: "axis" }, legend: { bottom: 0 },
    xAxis: { type: "category", data: d.years }, yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: "上年结转", type: "bar", data: d.carried, markPoint: { data: breaks, itemStyle: { color: "#c00" } } },
      { name: "结转下年度", type: "bar", data: d.forward },
      { name: "上年报告的结转下年度", type: "line", data: d.expected, connectNulls: false },
    ],
  });
});
