// The live dashboard: the KPIs of the latest loaded date, redrawn whenever a load finishes.
//
// It polls /health every REFRESH_MS (?refresh=<seconds> in the page URL overrides it) and,
// when last_load.finished_at changes, refetches every panel from the read API (SPEC §7)
// and redraws it (charts.js). Plain JS over plotly.js, all served by the API itself.
"use strict";

(() => {
  const DEFAULT_REFRESH_S = 5;
  const REFRESH_MS = refreshMs(new URLSearchParams(location.search).get("refresh"));
  const TOKEN_KEY = "musicstream.api_token";
  const DAY_MS = 86_400_000;
  const LISTENER_DAYS = 30;
  const GENRE_DAYS = 7;

  const state = { drawn: null, blocked: null, health: null, healthAt: 0, busy: false, timer: 0 };
  const $ = (id) => document.getElementById(id);

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function refreshMs(given) {
    const seconds = Number(given);
    return given && Number.isFinite(seconds) && seconds > 0
      ? Math.max(100, seconds * 1000) : DEFAULT_REFRESH_S * 1000;
  }

  // --- the token: #token=… in the URL, kept in sessionStorage, out of the address bar ---

  function takeToken() {
    const given = new URLSearchParams(location.hash.slice(1)).get("token");
    if (given) {
      sessionStorage.setItem(TOKEN_KEY, given);
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  async function getJson(path, token) {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const response = await fetch(path, { headers, cache: "no-store" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new HttpError(response.status, body.error || response.statusText);
    return body;
  }

  async function kpis(table, query) {
    const path = `/v1/kpis/${table}?${new URLSearchParams(query)}`;
    return (await getJson(path, takeToken())).rows;
  }

  // --- polling ---

  function schedule(ms) {
    clearTimeout(state.timer);
    state.timer = setTimeout(tick, ms);
  }

  async function tick() {
    if (state.busy) return;
    state.busy = true;
    try {
      await poll();
    } catch (error) {
      showProblem(error);
    } finally {
      state.busy = false;
      schedule(REFRESH_MS);
    }
  }

  async function poll() {
    const health = await getJson("/health");
    state.health = health;
    state.healthAt = performance.now();
    renderAgo();
    const load = health.last_load;
    if (health.status !== "ok" || !load) return showEmpty();
    if (state.blocked === load.finished_at) return; // the token message stays up
    if (state.drawn !== load.finished_at) await redraw(load);
    setState("ready", `Live: checks for new loads every ${REFRESH_MS / 1000} s.`);
  }

  async function redraw(load) {
    setState("loading", `Loading batch ${load.batch_id}…`);
    let data;
    try {
      data = await fetchAll(load.latest_date);
    } catch (error) {
      if (error.status === 401) state.blocked = load.finished_at; // until a new token
      throw error;
    }
    $("panels").hidden = false; // before plotting: a hidden element has no size
    window.dashboardCharts.draw(data);
    state.drawn = load.finished_at;
    showLoad(load);
  }

  async function fetchAll(date) {
    const day = new Date(`${date}T00:00:00Z`);
    const monday = iso(addDays(day, -((day.getUTCDay() + 6) % 7)));
    const first = `${date.slice(0, 8)}01`;
    const since = iso(addDays(day, 1 - LISTENER_DAYS));
    const offsets = Array.from({ length: GENRE_DAYS }, (_, i) => i + 1 - GENRE_DAYS);
    const recent = offsets.map((n) => iso(addDays(day, n)));
    const topGenres = await kpis("top_genres_daily", { date }); // alone: a 401 stops here
    const [topSongs, countries, hourly, daily, week, month, ...genreDays] = await Promise.all([
      kpis("top_songs_daily", { date }),
      kpis("country_daily", { date }),
      kpis("hourly_activity", { date }),
      kpis("active_listeners", { period: "day", from: since, to: date }),
      kpis("active_listeners", { period: "week", from: monday, to: monday }),
      kpis("active_listeners", { period: "month", from: first, to: first }),
      ...recent.map((d) => kpis("genre_daily", { date: d })),
    ]);
    return { date, since, topGenres, topSongs, countries, hourly, daily, week, month, recent,
             genreDays };
  }

  // --- page state ---

  // The status line is a live region: it changes only when there is news to announce.
  function setState(name, message, kind = "info") {
    const parts = Array.isArray(message) ? message : [message];
    const status = $("status");
    const text = parts.map((part) => (typeof part === "string" ? part : part.textContent)).join("");
    if (document.body.dataset.state === name && status.textContent === text) return;
    document.body.dataset.state = name;
    status.dataset.kind = kind;
    status.replaceChildren(...parts);
  }

  function showEmpty() {
    state.drawn = null;
    $("panels").hidden = true;
    const command = document.createElement("code");
    command.textContent = "musicstream run";
    setState("empty", ["No data loaded yet — run ", command,
      ` to load a batch; this page shows it as soon as it is loaded.`], "warn");
  }

  function showProblem(error) {
    if (error.status === 401) {
      const had = sessionStorage.getItem(TOKEN_KEY);
      sessionStorage.removeItem(TOKEN_KEY);
      const hint = document.createElement("code");
      hint.textContent = `${location.origin}${location.pathname}#token=<api_token>`;
      const first = had ? "The API refused the token given." : "This API needs a token.";
      setState("token", [`${first} Open this page as `, hint,
        " (the server's api_token setting, MUSICSTREAM_API_TOKEN)."], "error");
      return;
    }
    const what = error instanceof HttpError ? `${error.status}: ${error.message}` : error.message;
    const again = `trying again every ${REFRESH_MS / 1000} s`;
    setState("error", `Could not load the KPIs (${what}); ${again}.`, "error");
  }

  function showLoad(load) {
    $("latest-date").textContent = load.latest_date;
    $("last-batch").textContent = load.batch_id;
    $("last-batch").title = `finished ${load.finished_at}; ${load.dates} date(s) ` +
      `${load.date_from ?? ""} … ${load.date_to ?? ""}`;
  }

  function renderAgo() {
    const health = state.health;
    const element = $("loaded-ago");
    if (!health || health.age_s == null) {
      element.textContent = "—";
      return;
    }
    const seconds = Math.max(0, health.age_s + (performance.now() - state.healthAt) / 1000);
    element.textContent = `${ago(seconds)} ago`;
    element.dataset.ageS = String(Math.round(seconds));
    element.title = health.last_load.finished_at;
  }

  function ago(seconds) {
    if (seconds < 120) return `${Math.round(seconds)} s`;
    if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
    if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
    return `${Math.round(seconds / 86_400)} days`;
  }

  function addDays(day, n) {
    return new Date(day.getTime() + n * DAY_MS);
  }

  function iso(day) {
    return day.toISOString().slice(0, 10);
  }

  window.addEventListener("hashchange", () => {
    state.blocked = null;
    if (takeToken() && !state.busy) schedule(0);
  });
  takeToken();
  setInterval(renderAgo, 1000);
  tick();
})();
