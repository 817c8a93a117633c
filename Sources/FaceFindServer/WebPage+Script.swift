extension WebPage {
    /// The page's behaviour. Plain browser JavaScript (no framework, no build). Text from the server (names,
    /// labels, messages) only ever goes into `textContent`, never into HTML.
    static let script = #"""
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const state = {
    file: null, fileUrl: null, face: "largest", searchSeq: 0,
    page: 0, pageSize: 24, galleryLoaded: false, resultUrls: [], galleryUrls: [],
    people: [], person: null, peopleUrls: [], personUrls: [],
  };
  // ?pageSize=N (1-200) shows fewer or more gallery photos per page.
  const requestedPageSize = Number(new URLSearchParams(location.search).get("pageSize"));
  if (Number.isInteger(requestedPageSize) && requestedPageSize >= 1 && requestedPageSize <= 200) {
    state.pageSize = requestedPageSize;
  }

  // ---- API key: kept per tab (sessionStorage), sent on every call ----
  const keyInput = $("api-key");
  keyInput.value = sessionStorage.getItem("facefind-key") || "";
  keyInput.addEventListener("input", () => sessionStorage.setItem("facefind-key", keyInput.value.trim()));
  const authHeaders = () => (keyInput.value.trim() ? { "X-API-Key": keyInput.value.trim() } : {});

  async function api(path, options = {}) {
    const response = await fetch(path, { ...options, headers: { ...authHeaders(), ...(options.headers || {}) } });
    const type = response.headers.get("content-type") || "";
    const body = type.includes("application/json") ? await response.json() : null;
    if (!response.ok) {
      const error = new Error(body && body.error ? body.error.message : `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function explain(error) {
    if (error.status === 401) {
      $("settings").open = true;
      return `${error.message}. Enter the API key at the top of the page.`;
    }
    if (error.status === 503) return "The server is busy right now; try again in a moment.";
    return error.message || String(error);
  }

  function setStatus(element, text, isError = false) {
    element.textContent = text;
    element.classList.toggle("error", isError);
  }

  const pretty = (label) => label.replace(/_/g, " ");
  // Seconds as m:ss.s, and a video result's times: where the shown frame is, and where the person is on screen.
  const clock = (seconds) => {
    const tenths = Math.round(seconds * 10);
    return `${Math.floor(tenths / 600)}:${String(Math.floor(tenths / 10) % 60).padStart(2, "0")}.${tenths % 10}`;
  };
  const videoTimes = (r) => !r.time ? "" : `at ${clock(r.time.frame)}`
    + ((r.appearances || []).length ? `; on screen ${r.appearances.map((a) => `${clock(a.start)}-${clock(a.end)}`).join(", ")}` : "");
  const percent = (value, total) => `${(100 * value) / total}%`;

  function placeBox(element, box, width, height) {
    element.style.left = percent(box.x, width);
    element.style.top = percent(box.y, height);
    element.style.width = percent(box.width, width);
    element.style.height = percent(box.height, height);
  }

  // Thumbnails go through fetch so the key goes along when reads are protected; blob URLs are freed on
  // the next render.
  async function loadThumbnail(img, url, bag) {
    try {
      const response = await fetch(url, { headers: authHeaders() });
      if (!response.ok) throw new Error(String(response.status));
      const blobUrl = URL.createObjectURL(await response.blob());
      bag.push(blobUrl);
      img.src = blobUrl;
    } catch (error) {
      img.alt += " (thumbnail unavailable)";
    }
  }
  const revokeAll = (bag) => bag.splice(0).forEach((url) => URL.revokeObjectURL(url));

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A card: the thumbnail with an optional face box, and caption lines.
  function card(image, { box, lines, bag, alt }) {
    const item = el("li", "card");
    const frame = el("div", "frame");
    frame.style.aspectRatio = `${image.width || 1} / ${image.height || 1}`;
    const img = el("img");
    img.alt = alt;
    frame.append(img);
    if (box && image.width && image.height) {
      const mark = el("span", "box");
      placeBox(mark, box, image.width, image.height);
      frame.append(mark);
    }
    const caption = el("div", "caption");
    for (const [className, text] of lines) caption.append(el("span", className, text));
    item.append(frame, caption);
    loadThumbnail(img, image.thumbnail, bag);
    return item;
  }

  // ---- Search ----
  const searchStatus = $("search-status");
  const verdict = $("verdict");

  function chooseFile(file) {
    if (!file) return;
    if (file.type && !/^image\//.test(file.type)) {
      setStatus(searchStatus, `${file.name} is not an image.`, true);
      return;
    }
    state.file = file;
    state.face = "largest";
    if (state.fileUrl) URL.revokeObjectURL(state.fileUrl);
    state.fileUrl = URL.createObjectURL(file);
    $("query-image").src = state.fileUrl;
    $("query-faces").replaceChildren();
    $("query").hidden = false;
    search();
  }

  async function search() {
    if (!state.file) return;
    const form = new FormData();
    form.append("image", state.file, state.file.name || "photo");
    form.append("k", $("k").value || "10");
    form.append("metric", $("metric").value);
    form.append("face", String(state.face));
    const threshold = $("threshold").value.trim();
    if (threshold) form.append("threshold", threshold);
    const seq = ++state.searchSeq;
    setStatus(searchStatus, "Searching…");
    document.body.setAttribute("aria-busy", "true");
    try {
      const result = await api("/v1/search", { method: "POST", body: form });
      if (seq !== state.searchSeq) return;  // a newer search replaced this one
      renderFaces(result);
      renderResults(result);
      const t = result.timings;
      const found = result.faces.every((f) => f.wholeImage) ? "No face found (the whole photo was used)"
        : `${result.faces.length} face${result.faces.length === 1 ? "" : "s"} found`;
      setStatus(searchStatus, `${found}; ${result.results.length} result${result.results.length === 1 ? "" : "s"} `
        + `in ${Math.round(t.queueMs + t.decodeMs + t.detectEmbedMs + t.searchMs)} ms.`);
    } catch (error) {
      if (seq !== state.searchSeq) return;
      setStatus(searchStatus, explain(error), true);
      verdict.textContent = "";
      verdict.className = "verdict";
      revokeAll(state.resultUrls);
      $("results").replaceChildren();
    } finally {
      if (seq === state.searchSeq) document.body.removeAttribute("aria-busy");
    }
  }

  function renderFaces(result) {
    const layer = $("query-faces");
    layer.replaceChildren();
    const faces = result.faces.filter((f) => !f.wholeImage);
    faces.forEach((face, n) => {
      const chosen = result.chosenFaces.includes(face.index);
      const button = el("button");
      button.type = "button";
      button.dataset.face = String(face.index);
      button.setAttribute("aria-pressed", String(chosen));
      button.setAttribute("aria-label", `Face ${n + 1} of ${faces.length}${chosen ? ", searched" : ", search for this person"}`);
      button.append(el("span", "", String(n + 1)));
      placeBox(button, face.box, result.query.width, result.query.height);
      button.addEventListener("click", () => {
        state.face = face.index;
        search();
      });
      layer.append(button);
    });
    $("query-hint").textContent = faces.length > 1
      ? "Several faces: click one (or Tab to it and press Enter) to search for that person."
      : faces.length === 1 ? "The boxed face was searched." : "No face was found, so the whole photo was searched.";
  }

  function renderResults(result) {
    revokeAll(state.resultUrls);
    const list = $("results");
    list.replaceChildren();
    const best = result.results.find((r) => !r.unknown);
    if (result.results.length === 0) {
      verdict.textContent = "The gallery is empty: add photos in the Gallery view.";
      verdict.className = "verdict";
    } else if (result.unknown) {
      verdict.textContent = `Unknown person: no gallery photo passes the threshold `
        + `(best ${result.results[0].score.toFixed(3)}, threshold ${result.threshold.toFixed(2)}).`;
      verdict.className = "verdict unknown";
    } else {
      verdict.textContent = `Looks like ${pretty(best.label)} (score ${best.score.toFixed(3)}).`;
      verdict.className = "verdict known";
    }
    for (const r of result.results) {
      const item = card(r, {
        box: r.box, bag: state.resultUrls,
        alt: `Rank ${r.rank}: ${pretty(r.label)}, ${r.name}`,
        lines: [["rank", `#${r.rank}`], ["score", `${result.metric} ${r.score.toFixed(3)}`],
                ["tag", r.unknown ? "below threshold" : ""], ["label", pretty(r.label)], ["file", r.name],
                ["time", videoTimes(r)]],
      });
      item.classList.add("result");
      if (r.unknown) item.classList.add("unknown");
      item.dataset.rank = String(r.rank);
      item.dataset.id = String(r.id);
      item.dataset.label = r.label;
      list.append(item);
    }
  }

  $("query-file").addEventListener("change", (event) => chooseFile(event.target.files[0]));
  for (const id of ["k", "metric", "threshold"]) $(id).addEventListener("change", () => search());
  $("search-form").addEventListener("submit", (event) => { event.preventDefault(); search(); });

  const drop = $("drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("dragging"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("dragging");
    chooseFile(event.dataTransfer.files[0]);
  });
  // A file dropped anywhere else must not make the browser navigate away to it.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
  document.addEventListener("paste", (event) => {
    const file = [...(event.clipboardData ? event.clipboardData.files : [])].find((f) => /^image\//.test(f.type));
    if (file && !$("view-search").hidden) chooseFile(file);
  });

  // ---- Gallery ----
  const galleryStatus = $("gallery-status");

  async function loadGallery() {
    setStatus(galleryStatus, "Loading…");
    try {
      const page = await api(`/v1/gallery?offset=${state.page * state.pageSize}&limit=${state.pageSize}`);
      const pages = Math.max(1, Math.ceil(page.total / state.pageSize));
      if (page.images.length === 0 && state.page > 0) {  // the page emptied (deletes): go to the last one
        state.page = pages - 1;
        return loadGallery();
      }
      revokeAll(state.galleryUrls);
      const list = $("gallery");
      list.replaceChildren(...page.images.map(galleryCard));
      $("page-info").textContent = `Page ${state.page + 1} of ${pages} · ${page.total} photo${page.total === 1 ? "" : "s"}`;
      $("prev-page").disabled = state.page === 0;
      $("next-page").disabled = page.nextOffset === undefined;
      setStatus(galleryStatus, page.total === 0 ? "The gallery is empty." : "");
      state.galleryLoaded = true;
    } catch (error) {
      setStatus(galleryStatus, explain(error), true);
    }
  }

  function galleryCard(image) {
    const faces = image.error ? `not indexed: ${image.error}` : `${image.faceCount} face${image.faceCount === 1 ? "" : "s"}`;
    const item = card(image, {
      bag: state.galleryUrls, alt: `${pretty(image.label)}, ${image.name}`,
      lines: [["label", pretty(image.label)], ["file", image.name], ["score", faces]],
    });
    item.dataset.id = String(image.id);
    const actions = el("div", "actions");
    const remove = el("button", "", "Delete");
    remove.type = "button";
    remove.setAttribute("aria-label", `Delete ${image.name}`);
    // Two presses delete: no modal dialog, and an accidental press does nothing.
    remove.addEventListener("click", async () => {
      if (remove.dataset.armed !== "yes") {
        remove.dataset.armed = "yes";
        remove.textContent = "Press again to delete";
        return;
      }
      try {
        await api(`/v1/gallery/${image.id}`, { method: "DELETE" });
        setStatus(galleryStatus, `Deleted ${image.name}.`);
        loadGallery();
      } catch (error) {
        setStatus(galleryStatus, explain(error), true);
      }
    });
    remove.addEventListener("blur", () => { remove.dataset.armed = ""; remove.textContent = "Delete"; });
    actions.append(remove);
    item.append(actions);
    return item;
  }

  $("prev-page").addEventListener("click", () => { if (state.page > 0) { state.page -= 1; loadGallery(); } });
  $("next-page").addEventListener("click", () => { state.page += 1; loadGallery(); });

  $("add-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const files = [...$("add-files").files];
    if (files.length === 0) {
      setStatus(galleryStatus, "Choose one or more photos to add.", true);
      return;
    }
    const form = new FormData();
    const name = $("add-name").value.trim();
    if (name) form.append("name", name);
    for (const file of files) form.append("image", file, file.name);
    $("add-button").disabled = true;
    setStatus(galleryStatus, `Adding ${files.length} photo${files.length === 1 ? "" : "s"}…`);
    try {
      const result = await api("/v1/gallery", { method: "POST", body: form });
      const added = `Added ${result.added.length} photo${result.added.length === 1 ? "" : "s"}`
        + (name ? ` of ${name}.` : ".")
        + (result.joinedPersons > 0
           ? ` ${result.joinedPersons} face${result.joinedPersons === 1 ? "" : "s"} joined people already known.` : "");
      setStatus(galleryStatus, added);
      $("add-files").value = "";
      const page = await api("/v1/gallery?limit=1");
      state.page = Math.max(0, Math.ceil(page.total / state.pageSize) - 1);  // show the end, where they went
      await loadGallery();
      setStatus(galleryStatus, added);
    } catch (error) {
      setStatus(galleryStatus, explain(error), true);
    } finally {
      $("add-button").disabled = false;
    }
  });

  // ---- People ----
  const peopleStatus = $("people-status");
  const personName = (person) => person.name || `Person ${person.id}`;
  const photos = (n) => `${n} photo${n === 1 ? "" : "s"}`;

  // A face as a card: its photo's thumbnail with the face boxed.
  function faceCard(face, lines, bag, alt) {
    return card({ width: face.width, height: face.height, thumbnail: face.thumbnail }, { box: face.box, lines, bag, alt });
  }

  async function loadPeople() {
    setStatus(peopleStatus, "Loading…");
    try {
      state.people = await api("/v1/people");
      revokeAll(state.peopleUrls);
      $("people").replaceChildren(...state.people.map((person) => {
        const item = person.representative
          ? faceCard(person.representative, [["label", personName(person)], ["score", photos(person.photoCount)]],
                     state.peopleUrls, personName(person))
          : el("li", "card", personName(person));
        item.dataset.id = String(person.id);
        const open = el("button", "", `Open ${personName(person)}`);
        open.type = "button";
        open.addEventListener("click", () => openPerson(person.id));
        const actions = el("div", "actions");
        actions.append(open);
        item.append(actions);
        return item;
      }));
      setStatus(peopleStatus, state.people.length === 0
        ? "No persons yet: run facefind people cluster on the index." : `${state.people.length} persons.`);
    } catch (error) {
      setStatus(peopleStatus, explain(error), true);
    }
  }

  async function openPerson(id) {
    try {
      const person = await api(`/v1/people/${id}`);
      state.person = person;
      $("person-title").textContent = `${personName(person)} · ${photos(person.photoCount)}`;
      $("person-name").value = person.name || "";
      $("merge-from").replaceChildren(...state.people.filter((p) => p.id !== person.id).map((p) => {
        const option = el("option", "", `${personName(p)} (${photos(p.photoCount)})`);
        option.value = String(p.id);
        return option;
      }));
      revokeAll(state.personUrls);
      $("person-faces").replaceChildren(...person.faces.map((face) =>
        faceCard(face, [["file", face.path]], state.personUrls, `${personName(person)} in ${face.path}`)));
      $("people").hidden = true;
      $("person").hidden = false;
      setStatus(peopleStatus, "");
    } catch (error) {
      setStatus(peopleStatus, explain(error), true);
    }
  }

  async function changed(request, message) {
    try {
      const person = await request;
      await loadPeople();
      await openPerson(person.id);
      setStatus(peopleStatus, message(person));
    } catch (error) {
      setStatus(peopleStatus, explain(error), true);
    }
  }

  $("rename-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("person-name").value.trim();
    changed(api(`/v1/people/${state.person.id}?name=${encodeURIComponent(name)}`, { method: "PATCH" }),
            (person) => `Named ${personName(person)}.`);
  });
  $("merge-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const from = $("merge-from").value;
    if (!from) return;
    changed(api(`/v1/people/${state.person.id}/merge?from=${from}`, { method: "POST" }),
            (person) => `Merged: ${personName(person)} now has ${photos(person.photoCount)}.`);
  });
  $("hide-button").addEventListener("click", async () => {
    try {
      await api(`/v1/people/${state.person.id}?hidden=true`, { method: "PATCH" });
      closePerson();
      await loadPeople();
      setStatus(peopleStatus, "Hidden.");
    } catch (error) {
      setStatus(peopleStatus, explain(error), true);
    }
  });
  function closePerson() {
    $("person").hidden = true;
    $("people").hidden = false;
  }
  $("person-back").addEventListener("click", closePerson);

  // ---- Views ----
  const views = ["search", "gallery", "people"];
  function show(view) {
    for (const name of views) {
      $(`view-${name}`).hidden = name !== view;
      $(`tab-${name}`).setAttribute("aria-pressed", String(name === view));
    }
    if (view === "gallery" && !state.galleryLoaded) loadGallery();
    if (view === "people") { closePerson(); loadPeople(); }
    if (location.hash !== `#${view}`) history.replaceState(null, "", `#${view}`);
  }
  for (const name of views) $(`tab-${name}`).addEventListener("click", () => show(name));
  show(views.includes(location.hash.slice(1)) ? location.hash.slice(1) : "search");
})();
"""#
}
