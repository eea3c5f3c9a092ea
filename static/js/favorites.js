// Favorites on catalog pages. The pages are cached and shared by every visitor of an audience,
// so their "♡ Save" buttons are the same for everyone: GET forms to a confirmation page (after
// the login, for a guest). For a logged-in member this script reads the saved product ids from
// a private JSON endpoint, marks those buttons "♥ Saved" and makes every button post at once:
// save, or remove when saved, then back to this page. Without the script the buttons still
// work through the confirmation page. Grids include it once each: it runs once per page.
(function () {
  "use strict";
  if (window.wholesaleFavorites) {
    return;
  }
  window.wholesaleFavorites = true;

  var script = document.currentScript;
  var idsUrl = script ? script.dataset.idsUrl : "";
  var cookieName = (script && script.dataset.csrfCookie) || "csrftoken";

  function cookie(name) {
    var prefix = name + "=";
    var found = document.cookie.split("; ").filter(function (pair) {
      return pair.indexOf(prefix) === 0;
    })[0];
    return found ? decodeURIComponent(found.slice(prefix.length)) : "";
  }

  function hidden(form, name, value) {
    var input = form.querySelector('input[name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }

  function upgrade(form, saved, token) {
    var button = form.querySelector("button");
    if (!form.dataset.addUrl) {
      form.dataset.addUrl = form.getAttribute("action");
    }
    form.method = "post";
    form.action = saved ? form.dataset.removeUrl : form.dataset.addUrl;
    hidden(form, "csrfmiddlewaretoken", token);
    hidden(form, "next", window.location.pathname + window.location.search);
    form.classList.toggle("saved", saved);
    if (button) {
      if (!button.dataset.saveLabel) {
        button.dataset.saveLabel = button.textContent;
      }
      button.textContent = saved ? button.dataset.savedLabel : button.dataset.saveLabel;
      button.setAttribute("aria-pressed", saved ? "true" : "false");
    }
  }

  function start() {
    var token = cookie(cookieName);
    // No CSRF cookie: a guest (or a member whose browser holds none yet); leave the plain forms.
    if (!idsUrl || !token || !window.fetch || !document.querySelector("form[data-favorite]")) {
      return;
    }
    fetch(idsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data || !Array.isArray(data.ids)) {
          return;
        }
        var saved = {};
        data.ids.forEach(function (id) {
          saved[String(id)] = true;
        });
        document.querySelectorAll("form[data-favorite]").forEach(function (form) {
          upgrade(form, saved[form.dataset.favorite] === true, token);
        });
      })
      .catch(function () {
        // Offline or logged out meanwhile: the plain forms still work.
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
