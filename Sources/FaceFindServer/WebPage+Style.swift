extension WebPage {
    /// The page's look: one column on narrow screens, a fluid grid of cards everywhere, visible focus.
    static let style = #"""
:root {
  --bg: #f6f7f9; --fg: #1b1f24; --muted: #5b6470; --card: #fff; --line: #d5d9e0;
  --accent: #1f6feb; --good: #1a7f37; --bad: #b42318; --box: #ffcc00;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; line-height: 1.4; }
h1 { font-size: 1.4rem; margin: 0; }
h2 { font-size: 1.2rem; margin: 0 0 .75rem; }
button, input, select { font: inherit; }
button {
  border: 1px solid var(--line); background: var(--card); color: var(--fg);
  padding: .4rem .8rem; border-radius: .4rem; cursor: pointer;
}
button[aria-pressed="true"] { background: var(--accent); color: #fff; border-color: var(--accent); }
button:disabled { opacity: .5; cursor: default; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: .5rem; top: .5rem; background: var(--card); padding: .5rem; z-index: 10; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
}
.top {
  display: flex; flex-wrap: wrap; gap: .75rem 1.5rem; align-items: center;
  padding: .75rem 1rem; background: var(--card); border-bottom: 1px solid var(--line);
}
.tabs { display: flex; gap: .5rem; }
.settings { margin-left: auto; }
.settings label { display: block; font-size: .85rem; color: var(--muted); margin: .4rem 0 .2rem; }
main { padding: 1rem; max-width: 80rem; margin: 0 auto; }
.search-form { display: flex; flex-wrap: wrap; gap: 1rem; align-items: stretch; }
.drop {
  flex: 1 1 18rem; border: 2px dashed var(--line); border-radius: .6rem; background: var(--card);
  display: flex;
}
.drop.dragging { border-color: var(--accent); background: #eef4ff; }
.drop:focus-within { border-color: var(--accent); outline: 3px solid var(--accent); outline-offset: 2px; }
.drop-label { flex: 1; padding: 1.5rem 1rem; text-align: center; cursor: pointer; }
.drop-label small { display: block; color: var(--muted); margin-top: .3rem; }
.options {
  flex: 0 1 auto; display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center;
  border: 1px solid var(--line); border-radius: .6rem; background: var(--card); margin: 0;
}
.options input { width: 6rem; }
.status { min-height: 1.4em; color: var(--muted); }
.status.error, .verdict.error { color: var(--bad); }
.query { margin: 1rem 0; }
.query-frame { position: relative; display: inline-block; max-width: 100%; }
.query-frame img { display: block; max-width: 100%; max-height: 60vh; }
.query-faces button {
  position: absolute; padding: 0; border: 3px solid var(--box); background: transparent; border-radius: 0;
  min-width: 0; box-shadow: 0 0 0 1px #0008;
}
.query-faces button[aria-pressed="true"] { border-color: var(--good); border-width: 4px; }
.query-faces button span {
  position: absolute; left: -3px; top: -1.6em; background: var(--box); color: #000;
  font-size: .75rem; padding: 0 .3em; white-space: nowrap;
}
.query-faces button[aria-pressed="true"] span { background: var(--good); color: #fff; }
.hint { color: var(--muted); font-size: .9rem; }
.verdict { font-size: 1.15rem; font-weight: 600; min-height: 1.4em; }
.verdict.known { color: var(--good); }
.verdict.unknown { color: var(--bad); }
.grid {
  list-style: none; padding: 0; margin: 0; display: grid; gap: .75rem;
  grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr));
}
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: .5rem; overflow: hidden;
  display: flex; flex-direction: column;
}
.card.unknown { opacity: .55; }
.card .frame { position: relative; width: 100%; background: #e9ecf1; }
.card img { display: block; width: 100%; height: 100%; object-fit: fill; }
.card .box { position: absolute; border: 3px solid var(--box); box-shadow: 0 0 0 1px #0008; pointer-events: none; }
.card .caption { padding: .4rem .5rem; font-size: .85rem; display: flex; flex-wrap: wrap; gap: .2rem .5rem; }
.card .rank { font-weight: 700; }
.card .label { font-weight: 600; flex-basis: 100%; overflow-wrap: anywhere; }
.card .file { color: var(--muted); flex-basis: 100%; overflow-wrap: anywhere; font-size: .75rem; }
.card .score { font-variant-numeric: tabular-nums; }
.card .tag { color: var(--bad); }
.card .time { flex-basis: 100%; font-size: .75rem; }
.card .actions { padding: 0 .5rem .5rem; }
.add-form fieldset {
  display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; border: 1px solid var(--line);
  border-radius: .6rem; background: var(--card);
}
/* The grids set display: grid, which would otherwise win over the hidden attribute. */
[hidden] { display: none !important; }
.person-form { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin: .5rem 0; }
.person h3 { margin: .75rem 0 .25rem; }
.pager { display: flex; gap: .75rem; align-items: center; margin: .75rem 0; flex-wrap: wrap; }
@media (max-width: 40rem) {
  main { padding: .6rem; }
  .settings { margin-left: 0; flex-basis: 100%; }
  .grid { grid-template-columns: repeat(auto-fill, minmax(7.5rem, 1fr)); }
  .options input { width: 4.5rem; }
}
"""#
}
