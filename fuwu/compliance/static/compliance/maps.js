/* Maps on the compliance pages: county outlines from fuwu's own file (no tiles, nothing from the internet),
 * institutions as points, a value by county as colour (compliance's coverage, evaluation's indicators). Every
 * map repeats a table on the same page, which stays the accessible way to read it; the map is a picture of it
 * (role="img" on its container).
 *
 * Also the "nearest first" button of the finder: it asks the phone where it is and submits the form.
 */
(function () {
  "use strict";

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : [];
  }

  function outlines(el, then) {
    fetch(el.getAttribute("data-geojson"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (geojson) {
        if (!window.echarts.getMap("taizhou")) {
          window.echarts.registerMap("taizhou", geojson);
        }
        then(window.echarts.init(el));
      })
      .catch(function () { el.hidden = true; });
  }

  function pointsMap(el) {
    var points = data(el.getAttribute("data-points"));
    outlines(el, function (chart) {
      chart.setOption({
        aria: { enabled: false },
        tooltip: { trigger: "item", formatter: function (p) { return p.name + (p.data && p.data.grade ? "<br>" + p.data.grade : ""); } },
        geo: { map: "taizhou", roam: true, itemStyle: { areaColor: "#eef3f9", borderColor: "#4a4a4a" },
               label: { show: true, color: "#1a1a1a" }, emphasis: { disabled: true } },
        series: [{ type: "scatter", coordinateSystem: "geo", data: points, symbolSize: 10,
                   itemStyle: { color: "#0b4f9c", borderColor: "#ffffff", borderWidth: 1 } }]
      });
      chart.on("click", function (p) { if (p.data && p.data.url) { window.location.href = p.data.url; } });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  // Areas coloured by a value: compliance's coverage by county, evaluation's indicator by county. The page
  // gives the values (JSON: name, label, value, and a url to drill down to), their unit, the scale's end
  // (data-max, 100 by default) and which outline property names an area (data-name-property: "name", or "code").
  function choropleth(el) {
    var values = data(el.getAttribute("data-values"));
    var unit = el.getAttribute("data-unit") || "";
    var max = Number(el.getAttribute("data-max") || 100);
    var labels = {};
    values.forEach(function (v) { labels[v.name] = v.label; });
    outlines(el, function (chart) {
      chart.setOption({
        aria: { enabled: false },
        tooltip: { trigger: "item", formatter: function (p) {
          var v = p.data && p.data.value !== null && p.data.value !== undefined ? p.data.value + unit : "—";
          return (labels[p.name] || p.name) + "<br>" + v;
        } },
        visualMap: { min: 0, max: max, calculable: false, orient: "horizontal", left: "center", bottom: 4,
                     text: [max + unit, "0" + unit], inRange: { color: ["#fbe3d6", "#7fb3e0", "#0b4f9c"] } },
        series: [{ type: "map", map: "taizhou", data: values, roam: false,
                   nameProperty: el.getAttribute("data-name-property") || "name",
                   label: { show: true, formatter: function (p) { return labels[p.name] || p.name; } },
                   itemStyle: { borderColor: "#4a4a4a", areaColor: "#dddddd" } }]
      });
      chart.on("click", function (p) { if (p.data && p.data.url) { window.location.href = p.data.url; } });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function nearMe(form) {
    var button = form.querySelector("[data-near]");
    var status = form.querySelector("[data-near-status]");
    if (!button || !("geolocation" in navigator)) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      status.textContent = button.getAttribute("data-locating");
      navigator.geolocation.getCurrentPosition(function (position) {
        form.querySelector("[name=lat]").value = position.coords.latitude.toFixed(6);
        form.querySelector("[name=lon]").value = position.coords.longitude.toFixed(6);
        form.submit();
      }, function () {
        status.textContent = button.getAttribute("data-failed");
        button.disabled = false;
      }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
    });
  }

  function start() {
    if (window.echarts) {
      var points = document.getElementById("institution-map");
      if (points) { pointsMap(points); }
      Array.prototype.forEach.call(document.querySelectorAll("[data-choropleth]"), choropleth);
    }
    var form = document.querySelector("form[data-near-form]");
    if (form) { nearMe(form); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
