// The dashboard's panels: plotly.js charts, and under each a table of the values it draws.
//
// draw(data) renders what dashboard.js fetched for one date. Every table cell carries its
// column (data-col) and raw value (data-value), so the numbers can be read back exactly.
"use strict";

window.dashboardCharts = (() => {
  const GENRE_DAYS_SHOWN = 5; // genres drawn in the 7-day chart; its table also has the rest
  const COUNTRIES_SHOWN = 12;
  // Tableau 10 without its grey, which "other" uses.
  const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                   "#edc948", "#b07aa1", "#ff9da7", "#9c755f"];
  const OTHER = "#a5a5a5";
  const ACCENT = "#4e79a7";
  const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
  const NUM = new Intl.NumberFormat("en");
  const HOURS = new Intl.NumberFormat("en", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const SHORT_DAY = new Intl.DateTimeFormat("en", { month: "short", day: "numeric",
                                                    timeZone: "UTC" });
  const CONFIG = { displaylogo: false, displayModeBar: false, responsive: true };
  const BASE_LAYOUT = {
    margin: { l: 8, r: 16, t: 8, b: 36 },
    font: { family: FONT, size: 12, color: "#1f2933" },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    showlegend: false,
    hoverlabel: { font: { family: FONT } },
    xaxis: { automargin: true, gridcolor: "#e4e7eb", zeroline: false },
    yaxis: { automargin: true, gridcolor: "#e4e7eb", zeroline: false },
  };
  const $ = (id) => document.getElementById(id);

  function draw(data) {
    const colours = genreColours([
      ...data.topGenres.map((r) => r.genre),
      ...leadingGenres(data.genreDays.flat()),
    ]);
    drawTopGenres(data.topGenres, colours);
    drawTopSongs(data.topSongs, data.topGenres, colours);
    drawCountries(data.countries);
    drawHourly(data.hourly);
    drawListeners(data);
    drawGenreDays(data.recent, data.genreDays, colours);
  }

  function drawTopGenres(rows, colours) {
    plot("top-genres", [{
      type: "bar", orientation: "h",
      y: rows.map((r) => esc(r.genre)), x: rows.map((r) => r.listen_count),
      marker: { color: rows.map((r) => colours(r.genre)) },
      text: rows.map((r) => NUM.format(r.listen_count)), textposition: "auto",
      hovertemplate: "%{y}: %{x:,} plays<extra></extra>",
    }], { yaxis: { ...BASE_LAYOUT.yaxis, autorange: "reversed" } }, rows.length);
    table("top-genres-table", "Top genres", [
      col("rank", "#"), col("genre", "Genre", text), col("listen_count", "Plays"),
      col("unique_listeners", "Listeners"), col("total_listening_ms", "Hours", hours),
    ], rows);
  }

  function drawTopSongs(rows, topGenres, colours) {
    const order = new Map(topGenres.map((r, i) => [r.genre, i]));
    const shown = rows.filter((r) => order.has(r.genre))
      .sort((a, b) => order.get(a.genre) - order.get(b.genre) || a.rank - b.rank);
    const keys = shown.map((r) => `${r.genre}#${r.rank}`); // names may repeat: not the axis
    plot("top-songs", [{
      type: "bar", orientation: "h", y: keys, x: shown.map((r) => r.listen_count),
      marker: { color: shown.map((r) => colours(r.genre)) },
      customdata: shown.map((r) => [esc(r.track_name), esc(r.artists), esc(r.genre), r.rank]),
      hovertemplate: "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>" +
        "%{customdata[2]} #%{customdata[3]}: %{x:,} plays<extra></extra>",
    }], {
      yaxis: { ...BASE_LAYOUT.yaxis, autorange: "reversed", tickmode: "array", tickvals: keys,
               ticktext: shown.map((r) => esc(shorten(r.track_name, 26))), tickfont: { size: 11 } },
    }, shown.length);
    table("top-songs-table", "Top songs of the top genres", [
      col("genre", "Genre", text), col("rank", "#"), col("track_name", "Song", text),
      col("artists", "Artists", text), col("listen_count", "Plays"),
      col("unique_listeners", "Listeners"),
    ], shown);
  }

  function drawCountries(rows) {
    const sorted = [...rows].sort((a, b) => b.listen_count - a.listen_count ||
      a.country.localeCompare(b.country));
    const shown = sorted.slice(0, COUNTRIES_SHOWN);
    plot("countries", [{
      type: "bar", orientation: "h",
      y: shown.map((r) => esc(r.country)), x: shown.map((r) => r.listen_count),
      marker: { color: ACCENT },
      customdata: shown.map((r) => r.unique_listeners),
      hovertemplate: "%{y}: %{x:,} plays, %{customdata:,} listeners<extra></extra>",
    }], { yaxis: { ...BASE_LAYOUT.yaxis, autorange: "reversed" } }, shown.length);
    $("countries-note").textContent = sorted.length > shown.length
      ? `top ${shown.length} of ${sorted.length}` : "";
    table("countries-table", "Plays by country", [
      col("country", "Country", text), col("listen_count", "Plays"),
      col("unique_listeners", "Listeners"), col("total_listening_ms", "Hours", hours),
    ], sorted);
  }

  function drawHourly(rows) {
    const byHour = new Map(rows.map((r) => [r.hour, r]));
    const all = Array.from({ length: 24 }, (_, hour) => byHour.get(hour) ??
      { hour, listen_count: 0, unique_listeners: 0, total_listening_ms: 0 });
    plot("hourly", [{
      type: "bar", x: all.map((r) => r.hour), y: all.map((r) => r.listen_count),
      marker: { color: ACCENT },
      hovertemplate: "%{x}:00–%{x}:59 UTC: %{y:,} plays<extra></extra>",
    }], {
      xaxis: { ...BASE_LAYOUT.xaxis, dtick: 3, range: [-0.5, 23.5], title: { text: "hour (UTC)" } },
    }, rows.length);
    table("hourly-table", "Plays by hour (UTC)", [
      col("hour", "Hour"), col("listen_count", "Plays"), col("unique_listeners", "Listeners"),
      col("total_listening_ms", "Hours", hours),
    ], all);
  }

  function drawListeners({ date, since, daily, week, month }) {
    stat("listeners-day", daily.find((r) => r.period_start === date));
    stat("listeners-week", week[0]);
    stat("listeners-month", month[0]);
    const x = daily.map((r) => r.period_start);
    const line = (key, name, dash) => ({
      type: "scatter", mode: "lines+markers", name, x, y: daily.map((r) => r[key]),
      line: { color: ACCENT, dash, width: 2 }, marker: { size: 4 },
      hovertemplate: `%{x}: %{y:,} ${name.toLowerCase()}<extra></extra>`,
    });
    plot("listeners", [line("listeners", "Listeners", "solid"),
      line("new_listeners", "New listeners", "dot")], {
      showlegend: true, legend: { orientation: "h", x: 0, y: 1.15 },
      margin: { ...BASE_LAYOUT.margin, t: 24 },
      xaxis: { ...BASE_LAYOUT.xaxis, type: "date", tickformat: "%b %d", autorange: false,
               range: [addHours(since, -12), addHours(date, 12)] },
      yaxis: { ...BASE_LAYOUT.yaxis, rangemode: "tozero" },
    }, daily.length);
    table("listeners-table", "Active listeners", [
      col("period", "Period", text), col("period_start", "Start", text),
      col("listeners", "Listeners"), col("new_listeners", "New"), col("listen_count", "Plays"),
    ], [...daily, ...week, ...month]);
  }

  function stat(id, row) {
    const element = $(id);
    element.dataset.value = row ? String(row.listeners) : "";
    element.textContent = row ? NUM.format(row.listeners) : "—";
    if (!row) return;
    const extra = document.createElement("small");
    extra.textContent = ` (${NUM.format(row.new_listeners)} new)`;
    element.append(extra);
  }

  function drawGenreDays(days, perDay, colours) {
    const named = leadingGenres(perDay.flat());
    const count = (rows, genre) => rows.find((r) => r.genre === genre)?.listen_count ?? 0;
    const total = (rows) => rows.reduce((sum, r) => sum + r.listen_count, 0);
    const series = named.map((genre) => ({
      genre, values: perDay.map((rows) => count(rows, genre)),
    }));
    const labels = days.map(shortDay);
    plot("genre-days", series.map((s) => ({
      type: "bar", x: labels, y: s.values, name: esc(s.genre), marker: { color: colours(s.genre) },
      customdata: days,
      hovertemplate: "%{customdata}: %{y:,} %{fullData.name} plays<extra></extra>",
    })), {
      barmode: "group", bargap: 0.25, showlegend: true,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 11 } },
      margin: { ...BASE_LAYOUT.margin, t: 40 },
      xaxis: { ...BASE_LAYOUT.xaxis, type: "category" },
    }, total(perDay.flat()));
    const rows = days.map((day, i) => {
      const shown = series.reduce((sum, s) => sum + s.values[i], 0);
      return { report_date: day, ...Object.fromEntries(series.map((s) => [s.genre, s.values[i]])),
               other: total(perDay[i]) - shown, total: total(perDay[i]) };
    });
    table("genre-days-table", "Plays by genre, last 7 days", [
      col("report_date", "Date", text), ...named.map((g) => col(g, g)),
      col("other", "Other genres"), col("total", "Total"),
    ], rows);
  }

  // The genres with most plays over ``rows`` (genre_daily rows of several days).
  function leadingGenres(rows) {
    const sums = new Map();
    for (const r of rows) sums.set(r.genre, (sums.get(r.genre) ?? 0) + r.listen_count);
    return [...sums].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, GENRE_DAYS_SHOWN).map(([genre]) => genre);
  }

  function genreColours(genres) {
    const colours = new Map();
    for (const genre of genres) {
      if (!colours.has(genre)) colours.set(genre, PALETTE[colours.size % PALETTE.length]);
    }
    return (genre) => colours.get(genre) ?? OTHER;
  }

  function plot(id, traces, layout, rows) {
    const empty = rows ? [] : [{ text: "No data for this date", showarrow: false,
      xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { size: 14, color: "#52606d" } }];
    Plotly.react(id, traces, { ...BASE_LAYOUT, ...layout, annotations: empty }, CONFIG);
  }

  // --- value tables: every cell has data-col and its raw value in data-value ---

  function col(key, label, format = (v) => NUM.format(v)) {
    return { key, label, format, numeric: format !== text };
  }

  function table(id, caption, columns, rows) {
    const element = $(id);
    element.setAttribute("aria-label", caption);
    const head = document.createElement("tr");
    for (const c of columns) head.append(cell("th", c, c.label, { scope: "col" }));
    const body = rows.map((row) => {
      const tr = document.createElement("tr");
      for (const c of columns) {
        const td = cell("td", c, row[c.key] == null ? "" : c.format(row[c.key]));
        td.dataset.col = c.key;
        td.dataset.value = row[c.key] == null ? "" : String(row[c.key]);
        tr.append(td);
      }
      return tr;
    });
    const thead = document.createElement("thead");
    const tbody = document.createElement("tbody");
    thead.append(head);
    tbody.append(...body);
    element.replaceChildren(thead, tbody);
  }

  function cell(tag, column, content, attributes = {}) {
    const element = document.createElement(tag);
    element.textContent = content;
    if (column.numeric) element.className = "num";
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    return element;
  }

  // --- small helpers ---

  function text(value) {
    return String(value);
  }

  function hours(ms) {
    return HOURS.format(ms / 3_600_000);
  }

  function shorten(value, length) {
    return value.length > length ? `${value.slice(0, length - 1)}…` : value;
  }

  // Plotly reads a few HTML tags in its strings; data are shown as text, never as markup.
  function esc(value) {
    return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function addHours(date, n) {
    const moment = new Date(new Date(`${date}T00:00:00Z`).getTime() + n * 3_600_000);
    return moment.toISOString().slice(0, 19).replace("T", " "); // plotly: no "Z"
  }

  function shortDay(date) {
    return SHORT_DAY.format(new Date(`${date}T00:00:00Z`));
  }

  return { draw };
})();
