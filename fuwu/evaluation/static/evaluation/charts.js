/* Charts on the evaluation dashboard, drawn from the JSON the page also prints as a table (the table is the
 * accessible way to read it; the chart is a picture of it, role="img"). No data from anywhere else. */
(function () {
  "use strict";

  function draw(el) {
    var node = document.getElementById(el.getAttribute("data-source"));
    if (!node || !window.echarts) { return; }
    var rows = JSON.parse(node.textContent);
    var target = el.getAttribute("data-target");
    el.hidden = false;
    var chart = window.echarts.init(el);
    var line = el.getAttribute("data-kind") === "line";
    var series = {
      type: line ? "line" : "bar",
      data: rows.map(function (r) { return r.value === null ? null : Number(r.value); }),
      connectNulls: false,
      itemStyle: { color: "#0b4f9c" }
    };
    if (target !== "") {
      series.markLine = { symbol: "none", data: [{ yAxis: Number(target) }], lineStyle: { color: "#b3261e", type: "dashed" } };
    }
    chart.setOption({
      aria: { enabled: false },
      grid: { left: 48, right: 24, top: 24, bottom: 48 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: rows.map(function (r) { return r.label; }), axisLabel: { interval: 0, rotate: line ? 0 : 30 } },
      yAxis: { type: "value" },
      series: [series]
    });
    if (!line) {
      chart.on("click", function (p) { var r = rows[p.dataIndex]; if (r && r.url) { window.location.href = r.url; } });
    }
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".chart[data-source]"), draw);
  });
})();
