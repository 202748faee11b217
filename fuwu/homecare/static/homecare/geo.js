/* Fill a form's latitude/longitude inputs from the phone's location (forms marked data-geo).
 *
 * Progressive enhancement: the inputs are ordinary labelled fields the caregiver can type into, and
 * the form works the same without this script. The wording comes from the page (data-geo-* on the
 * status element, translated there); the Chinese below is only a fallback.
 *
 * A position from the phone sets the hidden "located" field to "device" (and "accuracy" to its metres);
 * typing into the coordinates afterwards clears it, so the server knows the figures were typed by hand
 * (allowed, with a reason, and flagged for review). Without this script every position counts as typed.
 */
(function () {
  "use strict";
  if (!("geolocation" in navigator) || !document.querySelectorAll) {
    return;
  }

  var TEXT = {
    button: "用手机定位填写经纬度",
    locating: "正在获取定位……",
    done: "已填入当前位置（误差约 {m} 米）。",
    failed: "没有取得定位。请在手机设置里允许浏览器使用位置信息后再试，或手动填写经纬度。"
  };

  function text(status, key) {
    var attr = status.getAttribute("data-geo-" + key);
    return attr || TEXT[key];
  }

  function enhance(form) {
    var lat = form.querySelector('input[name="latitude"]');
    var lon = form.querySelector('input[name="longitude"]');
    var status = form.querySelector("[data-geo-status]");
    var located = form.querySelector('input[name="located"]');
    var accuracy = form.querySelector('input[name="accuracy"]');
    if (!lat || !lon || !status) {
      return;
    }

    function typedByHand() {
      if (located) {
        located.value = "";
      }
      if (accuracy) {
        accuracy.value = "";
      }
    }
    lat.addEventListener("input", typedByHand);
    lon.addEventListener("input", typedByHand);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "hc-secondary hc-geo-button";
    button.textContent = text(status, "button");
    status.parentNode.insertBefore(button, status);

    function locate() {
      button.disabled = true;
      status.textContent = text(status, "locating");
      navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(6);
          lon.value = position.coords.longitude.toFixed(6);
          if (located) {
            located.value = "device";
          }
          if (accuracy) {
            accuracy.value = String(Math.round(position.coords.accuracy));
          }
          status.textContent = text(status, "done").replace("{m}", String(Math.round(position.coords.accuracy)));
          button.disabled = false;
        },
        function () {
          status.textContent = text(status, "failed");
          button.disabled = false;
        },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
      );
    }

    button.addEventListener("click", locate);
    // Fill at once only when the person already allowed it: an unasked-for permission prompt on page
    // load is easy to refuse by mistake, and then the button would not work either.
    if (!lat.value && !lon.value && navigator.permissions && navigator.permissions.query) {
      navigator.permissions.query({ name: "geolocation" }).then(function (result) {
        if (result.state === "granted") {
          locate();
        }
      }, function () { /* unsupported: the button is there */ });
    }
  }

  var forms = document.querySelectorAll("form[data-geo]");
  for (var i = 0; i < forms.length; i += 1) {
    enhance(forms[i]);
  }
}());
