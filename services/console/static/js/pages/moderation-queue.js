// The moderator's review queue: what awaits the caller's level (GET /moderation/queue), each
// item with its previews, automatic checks and, for a revision, its changes field by field;
// approve or reject (with a reason) from the keyboard. The API decides who may do what.
import {
  allPages, call, ensureStyle, h, onKeys, pageLang, statusLine, table, translator, typingIn, when, display,
} from "./staff-kit.js";
import { labels } from "../labels.js";

export const REASONS = ["inappropriate", "copyright", "inaccurate", "low_quality", "wrong_metadata", "duplicate",
  "privacy", "other"];

export const strings = {
  zh: {
    title: "审核队列", empty: "队列为空：没有等待您审核的资源。", loading: "加载中…", count: "共 {n} 项待审",
    shortcuts: "快捷键", k_move: "下一项 / 上一项", k_approve: "通过", k_reject: "驳回（再按数字选原因）",
    k_help: "显示/隐藏快捷键", k_play: "播放视频", play: "播放视频 (p)", k_escape: "取消", approve: "通过 (a)", reject: "驳回 (r)",
    revision: "修订", appeal: "申诉", new_item: "新提交", level_school: "校级初审", level_district: "区级审核",
    submitted: "提交于 {when}", checks: "自动检查", changes: "修订内容（原 → 新）", field: "字段", before: "原",
    after: "新", check: "检查项", result: "结果", detail: "说明", preview: "预览", no_preview: "暂无预览",
    pages: "文档页面", page_n: "第 {n} 页", video: "视频", meta: "基本信息", owner: "上传者", school: "学校",
    kind: "类型", subject: "学科", grade: "年级", status: "状态", description: "简介", version: "版本",
    choose_reason: "选择驳回原因（按 1–{n}），可先填写说明", note: "说明（可选，将告知上传者）", confirm_reject: "确认驳回",
    cancel: "取消 (Esc)", approved: "已通过：{title}", rejected: "已驳回：{title}（{reason}）", needs_level2: "已通过初审，待区级审核：{title}",
    result_pass: "通过", result_flag: "需留意", result_fail: "不通过", fails: "{n} 项不通过", warns: "{n} 项需留意",
    r_inappropriate: "内容不当", r_copyright: "侵犯版权", r_inaccurate: "内容错误", r_low_quality: "质量不佳",
    r_wrong_metadata: "信息填写有误", r_duplicate: "重复资源", r_privacy: "泄露隐私", r_other: "其他",
    c_blocked_content: "已下架内容比对", c_sensitive_words: "敏感词", c_duration: "时长", c_black_video: "黑屏",
    c_frozen_video: "画面静止", c_silent_audio: "无声", c_document_text: "文档文字",
    list_label: "待审资源列表（j/k 移动）", reload: "刷新",
    f_title: "标题", f_description: "简介", f_kind: "类型", f_subject: "学科", f_stage: "学段", f_grade: "年级", f_edition: "版本",
    f_volume: "册次", f_chapter: "章节", f_knowledge_point_ids: "知识点", f_tags: "标签", f_visibility: "可见范围", f_license: "许可协议",
    f_files: "文件", f_assets: "文件",
  },
  en: {
    title: "Review queue", empty: "The queue is empty: nothing awaits your review.", loading: "Loading…", count: "{n} waiting",
    shortcuts: "Shortcuts", k_move: "next / previous", k_approve: "approve", k_reject: "reject (then a digit for the reason)",
    k_help: "show/hide shortcuts", k_play: "play the video", play: "Play the video (p)", k_escape: "cancel", approve: "Approve (a)", reject: "Reject (r)",
    revision: "revision", appeal: "appeal", new_item: "new", level_school: "school level", level_district: "district level",
    submitted: "submitted {when}", checks: "Automatic checks", changes: "Changes (old → new)", field: "Field", before: "Old",
    after: "New", check: "Check", result: "Result", detail: "Detail", preview: "Preview", no_preview: "No preview yet",
    pages: "Document pages", page_n: "page {n}", video: "Video", meta: "Details", owner: "Uploaded by", school: "School",
    kind: "Kind", subject: "Subject", grade: "Grade", status: "Status", description: "Description", version: "Version",
    choose_reason: "Choose the reason (press 1–{n}); add a note first if you like", note: "Note (optional, shown to the uploader)",
    confirm_reject: "Reject", cancel: "Cancel (Esc)", approved: "Approved: {title}", rejected: "Rejected: {title} ({reason})",
    needs_level2: "Approved at school level, now awaits the district: {title}",
    result_pass: "pass", result_flag: "flagged", result_fail: "fail", fails: "{n} failed", warns: "{n} flagged",
    r_inappropriate: "Inappropriate", r_copyright: "Copyright", r_inaccurate: "Inaccurate", r_low_quality: "Low quality",
    r_wrong_metadata: "Wrong details", r_duplicate: "Duplicate", r_privacy: "Privacy", r_other: "Other",
    c_blocked_content: "Taken-down content", c_sensitive_words: "Sensitive words", c_duration: "Duration", c_black_video: "Black video",
    c_frozen_video: "Frozen video", c_silent_audio: "Silent audio", c_document_text: "Document text",
    list_label: "Resources awaiting review (j/k to move)", reload: "Reload",
    f_title: "Title", f_description: "Description", f_kind: "Kind", f_subject: "Subject", f_stage: "Stage", f_grade: "Grade",
    f_edition: "Edition", f_volume: "Volume", f_chapter: "Chapter", f_knowledge_point_ids: "Knowledge points", f_tags: "Tags",
    f_visibility: "Visibility", f_license: "Licence", f_files: "Files", f_assets: "Files",
  },
};

export async function render(root, ctx) {
  ensureStyle();
  const t = ctx.t || translator(ctx, strings);
  const lang = pageLang(ctx);
  const status = statusLine();
  const list = h("ul", { class: "sk-list", role: "listbox", "aria-label": t("list_label"), tabindex: "0", id: "queue-list" });
  const detail = h("section", { id: "queue-detail", "aria-live": "off" });
  const counter = h("p", { class: "sk-muted", id: "queue-count" });
  const help = h("aside", { id: "queue-help", hidden: true, "aria-label": t("shortcuts") },
    h("h2", {}, t("shortcuts")),
    h("ul", {}, [["j / k", t("k_move")], ["a", t("k_approve")], ["r → 1…8", t("k_reject")], ["p", t("k_play")], ["Esc", t("k_escape")], ["?", t("k_help")]]
      .map(([keys, text]) => h("li", {}, h("span", { class: "sk-kbd" }, keys), " ", text))));
  root.replaceChildren(h("div", { class: "sk-page", id: "moderation-queue" },
    h("h1", {}, t("title")),
    h("div", { class: "sk-row" }, counter,
      h("button", { type: "button", onclick: () => load() }, t("reload")),
      h("button", { type: "button", "aria-controls": "queue-help", onclick: () => { help.hidden = !help.hidden; } }, `${t("shortcuts")} (?)`)),
    help, status, h("div", { class: "sk-split" }, list, detail)));

  let items = [];
  let total = 0;  // the queue holds more than the 100 loaded at a time
  let current = 0;
  // Codes shown by their names (the taxonomy's vocabularies); a code stays as it is if unknown.
  const names = {};
  await Promise.all(["subjects", "grades"].map(async (vocabulary) => {
    for (const entry of await allPages(ctx, `/taxonomy/${vocabulary}`).catch(() => [])) names[entry.code] = entry.name;
  }));
  const named = (code) => (code ? names[code] || code : null);
  let picker = null;
  let busy = false;
  let player = null;

  async function load() {
    status.show(t("loading"));
    try {
      const reply = await call(ctx, "GET", "/moderation/queue", { query: { page: 1, size: 100 } });
      items = reply.items;
      total = reply.total;
      counter.textContent = t("count", { n: total });
      status.show("");
      current = Math.min(current, Math.max(items.length - 1, 0));
      drawList();
      await drawDetail();
    } catch (error) { status.fail(error); }
  }

  function summary(item) {
    const fails = item.automatic_checks.filter((c) => c.result === "fail").length;
    const warns = item.automatic_checks.filter((c) => c.result === "flag").length;
    return [fails ? h("span", { class: "sk-badge sk-fail" }, t("fails", { n: fails })) : null,
      warns ? h("span", { class: "sk-badge sk-warn" }, t("warns", { n: warns })) : null];
  }

  function drawList() {
    if (!items.length) {
      list.replaceChildren(h("li", { role: "option", "aria-selected": "false" }, t("empty")));
      detail.replaceChildren();
      return;
    }
    list.replaceChildren(...items.map((item, index) => h("li", {
      role: "option", id: `queue-item-${item.id}`, "aria-selected": index === current ? "true" : "false",
      dataset: { resourceId: item.id }, onclick: () => select(index),
    },
    h("strong", {}, item.title),
    h("span", { class: "sk-badge" }, item.revision ? t("revision") : item.appeal ? t("appeal") : t("new_item")),
    item.level ? h("span", { class: "sk-badge" }, t(`level_${item.level}`)) : null,
    summary(item),
    h("div", { class: "sk-muted" }, [named(item.subject), named(item.grade)].filter(Boolean).join(" · "), " ",
      t("submitted", { when: when(item.submitted_at, lang) })))));
    list.setAttribute("aria-activedescendant", `queue-item-${items[current].id}`);
  }

  async function select(index) {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, index));
    closePicker();
    drawList();
    const node = list.children[current];
    if (node && node.scrollIntoView) node.scrollIntoView({ block: "nearest" });
    await drawDetail();
  }

  async function drawDetail() {
    stopPlayer();
    const item = items[current];
    if (!item) return;
    const body = h("div", { "data-resource-id": item.id });
    detail.replaceChildren(h("h2", { id: "queue-detail-title" }, item.title), actions(item), body);
    body.append(checksTable(item));
    if (item.changes && item.changes.length) body.append(changesTable(item.changes));
    let resource = null;
    try {
      resource = await call(ctx, "GET", `/resources/${item.id}`);
    } catch (error) { status.fail(error); }
    if (items[current] !== item) return;  // moved on meanwhile
    if (resource) {
      body.append(metaTable(resource));
      body.append(await previews(resource));
    }
  }

  function actions(item) {
    return h("div", { class: "sk-row", id: "queue-actions" },
      h("button", { type: "button", class: "sk-primary", id: "approve", onclick: () => approve() }, t("approve")),
      h("button", { type: "button", class: "sk-danger", id: "reject", onclick: () => openPicker() }, t("reject")),
      h("span", { class: "sk-muted" }, `${t("version")} ${item.version ?? "—"}`));
  }

  function checksTable(item) {
    const rows = item.automatic_checks;
    return h("section", { "aria-labelledby": "checks-h" }, h("h3", { id: "checks-h" }, t("checks")),
      rows.length ? table([
        { label: t("check"), cell: (c) => strings.zh[`c_${c.check}`] ? t(`c_${c.check}`) : c.check },
        { label: t("result"), cell: (c) => h("span", { class: `sk-${c.result === "fail" ? "fail" : c.result === "flag" ? "warn" : "pass"}` },
          strings.zh[`result_${c.result}`] ? t(`result_${c.result}`) : c.result) },
        { label: t("detail"), cell: (c) => [c.detail || "", c.facts && Object.keys(c.facts).length
          ? h("div", { class: "sk-muted" }, factsText(c.facts)) : null] },
      ], rows, { caption: t("checks") }) : h("p", { class: "sk-muted" }, "—"));
  }

  function changesTable(changes) {
    return h("section", { "aria-labelledby": "changes-h", id: "revision-diff" }, h("h3", { id: "changes-h" }, t("changes")),
      table([
        { label: t("field"), cell: (c) => (strings.zh[`f_${c.field}`] ? t(`f_${c.field}`) : c.field) },
        { label: t("before"), cell: (c) => h("span", { class: "sk-diff-before" }, display(c.before)) },
        { label: t("after"), cell: (c) => h("span", { class: "sk-diff-after" }, display(c.after)) },
      ], changes, { caption: t("changes") }));
  }

  function metaTable(resource) {
    const rows = [
      [t("kind"), labels(`kind_${resource.kind}`)], [t("subject"), named(resource.subject)], [t("grade"), named(resource.grade)],
      [t("owner"), resource.owner && (resource.owner.real_name || resource.owner.name || resource.owner.id)],
      [t("school"), resource.school && resource.school.name], [t("status"), labels(`status_${resource.status}`)],
      [t("description"), resource.description],
    ];
    return h("section", { "aria-labelledby": "meta-h" }, h("h3", { id: "meta-h" }, t("meta")),
      table([{ label: t("field"), cell: (r) => r[0] }, { label: t("detail"), cell: (r) => display(r[1]) }], rows));
  }

  // What processing made to look at (each asset's `preview`), shown without asking for /play:
  // a play link counts as a view in the district's statistics, so the lesson plays only when
  // the moderator asks (p, or the button), through the console's player.
  async function previews(resource) {
    const section = h("section", { "aria-labelledby": "preview-h", id: "queue-preview" }, h("h3", { id: "preview-h" }, t("preview")));
    let shown = 0;
    for (const asset of resource.assets) {
      const preview = asset.preview;
      // A lesson plays from its first playable version on, before its ladder (and poster) exist.
      if (asset.category === "video" || (preview && preview.kind === "ladder")) {
        const box = h("div", { class: "sk-player" });
        const start = h("button", { type: "button", class: "sk-play", onclick: () => playInto(box, resource) }, t("play"));
        const poster = preview && preview.kind === "ladder" && preview.url;
        box.append(poster ? h("img", { src: poster, alt: `${t("video")}: ${asset.filename}`, width: 480 }) : null, h("div", {}, start));
        section.append(h("h4", {}, t("video"), ` — ${asset.filename}`), box);
        shown += 1;
        continue;
      }
      if (!preview) continue;
      if (preview.kind === "document") {
        try {
          const pages = await call(ctx, "GET", `/resources/${resource.id}/preview`, { query: { asset_id: asset.id } });
          section.append(h("h4", {}, t("pages"), ` — ${asset.filename}`), h("div", { class: "sk-pages" }, pages.pages.slice(0, 6).map((p) =>
            h("img", { src: p.image_url, alt: `${asset.filename} — ${t("page_n", { n: p.number })}`, loading: "lazy", width: 420 }))));
          shown += 1;
        } catch (error) { section.append(h("p", { class: "sk-muted" }, t("no_preview"))); }
      } else if (preview.kind === "image" && preview.url) {
        section.append(h("div", { class: "sk-pages" }, h("img", { src: preview.url, alt: asset.filename })));
        shown += 1;
      } else if (preview.kind === "audio" && preview.url) {
        section.append(h("h4", {}, asset.filename), h("audio", { controls: true, preload: "none", src: preview.url, "aria-label": asset.filename }));
        shown += 1;
      }
    }
    if (!shown) section.append(h("p", { class: "sk-muted" }, t("no_preview")));
    return section;
  }

  async function playInto(box, resource) {
    stopPlayer();
    box.replaceChildren();
    try {
      const { mountPlayer } = await import("../player.js");
      player = await mountPlayer(box, { api: ctx.api, resourceId: resource.id });
    } catch (error) { status.fail(error); }
  }

  function stopPlayer() {
    if (player) { try { player.destroy(); } catch (error) { console.warn(error); } player = null; }
  }

  async function decide(action, reasonCode = null, note = "") {
    const item = items[current];
    if (!item || busy) return;
    busy = true;
    try {
      const reply = await call(ctx, "POST", `/moderation/resources/${item.id}/decision`, { json: {
        action, reason_code: reasonCode, note,
        // What the moderator looked at: the API refuses the decision if it changed meanwhile.
        version: item.version ?? undefined, revision_id: item.revision ? item.revision.id : undefined,
      } });
      closePicker();
      const message = action === "approve"
        ? (reply.review_level ? t("needs_level2", { title: item.title }) : t("approved", { title: item.title }))
        : t("rejected", { title: item.title, reason: t(`r_${reasonCode}`) });
      items.splice(current, 1);
      total = Math.max(total - 1, 0);
      counter.textContent = t("count", { n: total });
      if (current >= items.length) current = Math.max(items.length - 1, 0);
      if (!items.length && total) {
        await load();  // the next hundred
      } else {
        drawList();
        await drawDetail();
      }
      status.show(message, "ok");
      list.focus();
    } catch (error) {
      status.fail(error);
    } finally {
      busy = false;
    }
  }

  function approve() { return decide("approve"); }

  function openPicker() {
    if (!items[current] || picker) return;
    const note = h("textarea", { id: "reject-note", rows: 2, maxlength: 2000 });
    picker = h("div", { class: "sk-picker", id: "reject-picker", role: "dialog", "aria-labelledby": "picker-h" },
      h("h3", { id: "picker-h" }, t("choose_reason", { n: REASONS.length })),
      h("ol", {}, REASONS.map((code, index) => h("li", {},
        h("button", { type: "button", dataset: { reason: code }, onclick: () => decide("reject", code, note.value) },
          h("span", { class: "sk-kbd" }, String(index + 1)), " ", t(`r_${code}`))))),
      h("label", { class: "sk-field" }, t("note"), note),
      h("div", { class: "sk-row" }, h("button", { type: "button", onclick: () => closePicker() }, t("cancel"))));
    detail.insertBefore(picker, detail.children[2] || null);
    picker.querySelector("button").focus();
  }

  function closePicker() {
    if (picker) { picker.remove(); picker = null; }
  }

  const stopKeys = onKeys(root, (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") { if (picker) { event.preventDefault(); closePicker(); list.focus(); } return; }
    if (typingIn(event)) return;
    if (picker && /^[1-9]$/.test(event.key)) {
      const code = REASONS[Number(event.key) - 1];
      if (code) { event.preventDefault(); decide("reject", code, picker.querySelector("#reject-note").value); }
      return;
    }
    if (picker) return;  // while the reasons are open, only a digit or Esc counts
    switch (event.key) {
      case "j": case "ArrowDown": event.preventDefault(); select(current + 1); break;
      case "k": case "ArrowUp": event.preventDefault(); select(current - 1); break;
      case "a": event.preventDefault(); approve(); break;
      case "r": event.preventDefault(); openPicker(); break;
      case "?": event.preventDefault(); help.hidden = !help.hidden; break;
      case "p": { const play = detail.querySelector(".sk-play"); if (play) { event.preventDefault(); play.click(); } break; }
      default:
    }
  });

  await load();
  list.focus();
  return () => { stopKeys(); stopPlayer(); };
}

function factsText(facts) {
  return Object.entries(facts).map(([key, value]) => `${key}: ${Array.isArray(value) || typeof value === "object"
    ? JSON.stringify(value) : value}`).join("; ");
}
