extension WebPage {
    /// The page's structure. Every control is a native button, input or link, so it works with the keyboard
    /// and screen readers without extra scripting; `role="status"` regions announce results and errors.
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>FaceFind</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <h1>FaceFind</h1>
  <nav aria-label="Views" class="tabs">
    <button type="button" id="tab-search" aria-controls="view-search" aria-pressed="true">Search</button>
    <button type="button" id="tab-gallery" aria-controls="view-gallery" aria-pressed="false">Gallery</button>
    <button type="button" id="tab-people" aria-controls="view-people" aria-pressed="false">People</button>
  </nav>
  <details id="settings" class="settings">
    <summary>API key</summary>
    <label for="api-key">Key for adding and deleting photos (kept in this browser tab only)</label>
    <input id="api-key" type="password" autocomplete="off" spellcheck="false">
  </details>
</header>

<main id="main">
  <section id="view-search" aria-labelledby="search-title">
    <h2 id="search-title">Who is this?</h2>
    <form id="search-form" class="search-form">
      <div id="drop" class="drop">
        <input type="file" id="query-file" class="visually-hidden" accept="image/jpeg,image/png,image/webp,image/heic,image/heif,image/avif,.heic,.heif,.hif,.avif">
        <label for="query-file" class="drop-label">
          <strong>Choose a photo</strong> or drop it here
          <small>JPEG, PNG, WebP, HEIC or AVIF; you can also paste one</small>
        </label>
      </div>
      <fieldset class="options">
        <legend>Options</legend>
        <label>Results <input type="number" id="k" min="1" max="100" value="10" inputmode="numeric"></label>
        <label>Metric
          <select id="metric">
            <option value="cosine">cosine</option>
            <option value="euclidean">euclidean</option>
          </select>
        </label>
        <label>Threshold <input type="number" id="threshold" step="0.01" placeholder="default"></label>
      </fieldset>
    </form>

    <p id="search-status" class="status" role="status" aria-live="polite"></p>

    <div id="query" class="query" hidden>
      <div class="query-frame" id="query-frame">
        <img id="query-image" alt="The photo you searched with">
        <div id="query-faces" class="query-faces"></div>
      </div>
      <p class="hint" id="query-hint"></p>
    </div>

    <p id="verdict" class="verdict" role="status" aria-live="polite"></p>
    <ol id="results" class="grid results" aria-label="Gallery photos most like the chosen face"></ol>
  </section>

  <section id="view-gallery" aria-labelledby="gallery-title" hidden>
    <h2 id="gallery-title">Gallery</h2>
    <form id="add-form" class="add-form">
      <fieldset>
        <legend>Add photos or videos</legend>
        <label for="add-name">Name of the person</label>
        <input id="add-name" type="text" autocomplete="off" maxlength="100">
        <label for="add-files">Photos or videos</label>
        <input id="add-files" type="file" multiple accept="image/jpeg,image/png,image/webp,image/heic,image/heif,image/avif,.heic,.heif,.hif,.avif,video/mp4,video/quicktime,video/webm,video/x-matroska,.mp4,.mov,.webm,.mkv,.avi">
        <button type="submit" id="add-button">Add to gallery</button>
      </fieldset>
    </form>
    <p id="gallery-status" class="status" role="status" aria-live="polite"></p>
    <nav class="pager" aria-label="Gallery pages">
      <button type="button" id="prev-page">Previous</button>
      <span id="page-info"></span>
      <button type="button" id="next-page">Next</button>
    </nav>
    <ul id="gallery" class="grid gallery"></ul>
  </section>

  <section id="view-people" aria-labelledby="people-title" hidden>
    <h2 id="people-title">People</h2>
    <p class="hint">Faces grouped into persons by <code>facefind people cluster</code>. Open one to see their photos,
      name them, or merge two that are the same person.</p>
    <p id="people-status" class="status" role="status" aria-live="polite"></p>
    <ul id="people" class="grid people" aria-label="Persons, largest first"></ul>
    <div id="person" class="person" hidden>
      <button type="button" id="person-back">Back to people</button>
      <h3 id="person-title"></h3>
      <form id="rename-form" class="person-form">
        <label for="person-name">Name</label>
        <input id="person-name" type="text" autocomplete="off" maxlength="200">
        <button type="submit" id="rename-button">Save name</button>
      </form>
      <form id="merge-form" class="person-form">
        <label for="merge-from">Same person as</label>
        <select id="merge-from"></select>
        <button type="submit" id="merge-button">Merge into this one</button>
      </form>
      <button type="button" id="hide-button">Hide this person</button>
      <ul id="person-faces" class="grid" aria-label="This person's photos"></ul>
    </div>
  </section>
</main>
<noscript><p class="status">This page needs JavaScript; the API at <a href="/openapi.yaml">/openapi.yaml</a> does not.</p></noscript>
</body>
</html>
"""#
}
