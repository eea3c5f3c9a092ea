// Product page: the variant picker narrows the variant table to the chosen options, and the
// gallery thumbnails swap the main picture. Without JavaScript both degrade to plain links
// and the full table.
(function () {
  "use strict";

  function setUpPicker(form) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-variant]"));
    var summary = form.querySelector("[data-variant-summary]");

    function chosen() {
      var picked = {};
      form.querySelectorAll("input[type=radio]:checked").forEach(function (input) {
        picked[input.name] = input.value;
      });
      return picked;
    }

    function update() {
      var picked = chosen();
      var matches = rows.filter(function (row) {
        return Object.keys(picked).every(function (name) {
          return row.dataset[name] === picked[name];
        });
      });
      rows.forEach(function (row) {
        row.hidden = matches.indexOf(row) === -1;
      });
      if (summary) {
        summary.textContent = matches.length === 1
          ? matches[0].dataset.sku + " · " + matches[0].dataset.stock
          : "";
      }
    }

    form.addEventListener("change", update);
  }

  function setUpGallery() {
    var main = document.querySelector("[data-gallery-main]");
    if (!main) { return; }
    document.querySelectorAll("[data-gallery-thumb]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var picture = link.querySelector("picture");
        var mainImg = main.querySelector("img");
        if (!picture || !mainImg) { return; }
        event.preventDefault();
        var large = link.getAttribute("href");
        var source = main.querySelector("source");
        var thumbSource = picture.querySelector("source");
        if (source && thumbSource) { source.srcset = thumbSource.srcset; }
        mainImg.srcset = picture.querySelector("img").srcset;
        mainImg.src = large;
      });
    });
  }

  // The order grid shows the summed quantity and the tier it reaches, as the server will
  // count it (all variants of the product together). Prices are always recomputed server-side.
  function setUpOrderGrid(form) {
    var out = form.querySelector("[data-grid-total]");
    var tiers = Array.prototype.slice.call(document.querySelectorAll("[data-tier-min]"))
      .map(function (row) {
        return { min: parseInt(row.dataset.tierMin, 10), price: row.dataset.tierPrice };
      })
      .sort(function (a, b) { return a.min - b.min; });
    if (!out || !tiers.length) { return; }

    form.addEventListener("input", function () {
      var total = 0;
      form.querySelectorAll("input.qty").forEach(function (input) {
        var n = parseInt(input.value, 10);
        if (n > 0) { total += n; }
      });
      if (!total) { out.textContent = ""; return; }
      var reached = tiers[0];
      var next = null;
      tiers.forEach(function (tier) {
        if (total >= tier.min) { reached = tier; } else if (!next) { next = tier; }
      });
      var text = total + " " + out.dataset.templateUnits + " · " + reached.price + " " +
        out.dataset.templateEach;
      if (next) {
        text += " · +" + (next.min - total) + " " + out.dataset.templateMore + " " + next.price;
      }
      out.textContent = text;
    });
  }

  document.querySelectorAll("[data-variant-picker]").forEach(setUpPicker);
  document.querySelectorAll("[data-order-grid]").forEach(setUpOrderGrid);
  setUpGallery();
}());
