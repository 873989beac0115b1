// Citizen app: GPS button and service worker registration (progressive enhancement only).
(function () {
  "use strict";
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/phan-anh/sw.js", { scope: "/phan-anh/" }).catch(function () {});
  }
  var button = document.getElementById("gps-button");
  if (!button) return;
  var status = document.getElementById("gps-status");
  if (!("geolocation" in navigator)) { button.hidden = true; return; }
  button.addEventListener("click", function () {
    status.textContent = "Đang lấy vị trí…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("id_latitude").value = pos.coords.latitude.toFixed(6);
      document.getElementById("id_longitude").value = pos.coords.longitude.toFixed(6);
      document.getElementById("id_unit_code").value = "";
      document.getElementById("id_share_location").checked = true;
      status.textContent = "Đã lấy vị trí; hệ thống sẽ chọn xã/phường gần nhất.";
    }, function () {
      status.textContent = "Không lấy được vị trí; hãy chọn xã/phường trong danh sách.";
    }, { enableHighAccuracy: true, timeout: 15000 });
  });
})();
