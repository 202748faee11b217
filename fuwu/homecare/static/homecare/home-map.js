/* Place an elder's home on an offline map of the county (the account page's [data-home-map]).
 *
 * An aid, not the only way: the latitude and longitude fields stay ordinary inputs. Clicking the map,
 * or moving its marker with the arrow keys (Shift: ten times further), writes the position into them
 * and sets the hidden "source" field to "map"; typing into them sets it back to "typed", which the
 * server accepts only with a note. The outline is the county's border only (no roads, no tiles, no
 * network): good to about a hundred metres, so a caregiver's located check-in can later refine it.
 * Wording comes from the page (data-* attributes, translated there).
 */
(function () {
  "use strict";
  var box = document.querySelector("[data-home-map]");
  if (!box || !window.echarts || !window.fetch) {
    return;
  }
  var form = box.closest("form");
  var canvas = box.querySelector(".hc-map-canvas");
  var status = box.querySelector("[data-map-status]");
  var lat = form.querySelector('input[name="latitude"]');
  var lon = form.querySelector('input[name="longitude"]');
  var source = form.querySelector('input[name="source"]');
  var STEP = 0.001; // degrees: about 110 m north-south, 100 m east-west here

  function number(input) {
    var value = parseFloat(String(input.value).trim());
    return isFinite(value) ? value : null;
  }

  function say(key, point) {
    var text = box.getAttribute("data-" + key) || "";
    if (point) {
      text = text.replace("{lat}", point[1].toFixed(6)).replace("{lon}", point[0].toFixed(6));
    }
    status.textContent = text;
  }

  function centreOf(geo) {
    var feature = geo.features[0];
    return feature && feature.properties && feature.properties.centre;
  }

  fetch(box.getAttribute("data-outline"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("outline " + response.status);
      }
      return response.json();
    })
    .then(function (geo) {
      echarts.registerMap("hc-home", geo);
      var chart = echarts.init(canvas, null, { renderer: "canvas" });
      var point = null;
      var known = [number(lon), number(lat)];
      if (known[0] !== null && known[1] !== null) {
        point = known;
      }
      var centre = point || centreOf(geo) || [121.42, 28.66];

      function draw() {
        chart.setOption({
          series: [{ id: "home", data: point ? [point] : [] }]
        });
      }

      chart.setOption({
        animation: false,
        geo: {
          map: "hc-home",
          roam: true,
          // Degrees of longitude are shorter than degrees of latitude this far north.
          aspectScale: Math.cos((centre[1] * Math.PI) / 180),
          selectedMode: false,
          silent: true,
          label: { show: true, color: "#333" },
          itemStyle: { areaColor: "#eef3f7", borderColor: "#345", borderWidth: 1 }
        },
        series: [{
          id: "home",
          type: "scatter",
          coordinateSystem: "geo",
          symbol: "pin",
          symbolSize: 28,
          itemStyle: { color: "#b00020" },
          data: point ? [point] : []
        }]
      });

      function pick(next) {
        point = [Math.round(next[0] * 1e6) / 1e6, Math.round(next[1] * 1e6) / 1e6];
        lon.value = point[0].toFixed(6);
        lat.value = point[1].toFixed(6);
        source.value = "map";
        draw();
        say("picked", point);
      }

      chart.getZr().on("click", function (event) {
        var at = chart.convertFromPixel({ geoIndex: 0 }, [event.offsetX, event.offsetY]);
        if (at && isFinite(at[0]) && isFinite(at[1])) {
          pick(at);
        }
      });

      canvas.addEventListener("keydown", function (event) {
        var moves = { ArrowUp: [0, 1], ArrowDown: [0, -1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
        var move = moves[event.key];
        if (!move) {
          return;
        }
        event.preventDefault();
        var step = event.shiftKey ? STEP * 10 : STEP;
        var from = point || centre;
        pick([from[0] + move[0] * step, from[1] + move[1] * step]);
      });

      function typed() {
        source.value = "typed";
        var next = [number(lon), number(lat)];
        if (next[0] !== null && next[1] !== null) {
          point = next;
          draw();
        }
      }
      lat.addEventListener("input", typed);
      lon.addEventListener("input", typed);
      window.addEventListener("resize", function () {
        chart.resize();
      });
    })
    .catch(function () {
      say("failed");
    });
}());
