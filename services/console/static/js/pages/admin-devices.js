// Recording classrooms (录播教室): register a device (its token is shown once), revoke one, and
// keep its timetable (GET/PUT /devices/{id}/schedule) as JSON slots or an iCalendar file. The
// API parses and checks the slots (teacher at the school, times), and the console shows refusals.
import { allPages, call, ensureStyle, field, h, pageLang, select, statusLine, table, translator, when } from "./staff-kit.js";

export const strings = {
  zh: {
    title: "录播设备与课表", school: "学校", classroom: "教室", name: "设备名称", register: "登记设备", registered: "已登记：{name}",
    token: "设备令牌（只显示这一次，请立即配置到设备上）：", revoke: "停用", revoked: "已停用：{name}", confirm_revoke: "确定停用设备“{name}”？停用后它无法再上传录像。",
    state: "状态", active: "在用", revoked_at: "已停用（{when}）", last_seen: "最近联系", never: "从未", actions: "操作",
    timetable: "课表", edit_timetable: "课表", timetable_of: "课表：{name}", teacher: "教师（登录名或编号）", subject: "学科",
    grade: "年级", class_name: "班级", start: "开始", end: "结束", add_slot: "添加一节", remove: "删除", save_timetable: "保存课表（整体替换）",
    saved: "课表已保存：{n} 节", ics: "或上传 iCalendar（.ics）文件替换", upload_ics: "上传并替换", no_slots: "暂无课表。", count: "共 {n} 台设备",
    close: "关闭课表",
  },
  en: {
    title: "Recording classrooms and timetables", school: "School", classroom: "Classroom", name: "Device name", register: "Register device",
    registered: "Registered: {name}", token: "Device token (shown this once: configure the device with it now):", revoke: "Revoke",
    revoked: "Revoked: {name}", confirm_revoke: "Revoke device “{name}”? It will no longer be able to upload recordings.",
    state: "State", active: "active", revoked_at: "revoked ({when})", last_seen: "Last seen", never: "never", actions: "Actions",
    timetable: "Timetable", edit_timetable: "Timetable", timetable_of: "Timetable: {name}", teacher: "Teacher (username or id)",
    subject: "Subject", grade: "Grade", class_name: "Class", start: "Start", end: "End", add_slot: "Add a lesson", remove: "Remove",
    save_timetable: "Save timetable (replaces it)", saved: "Timetable saved: {n} lessons", ics: "Or replace it with an iCalendar (.ics) file",
    upload_ics: "Upload and replace", no_slots: "No timetable yet.", count: "{n} devices", close: "Close timetable",
  },
};

// <input type="datetime-local"> speaks local time without a zone; the API wants an aware time.
function toLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : null;
}

export async function render(root, ctx) {
  ensureStyle();
  const t = ctx.t || translator(ctx, strings);
  const lang = pageLang(ctx);
  const status = statusLine();
  const list = h("div", { id: "devices-list" });
  const counter = h("p", { class: "sk-muted" });
  const tokenBox = h("div", { id: "device-token", "aria-live": "polite" });
  const timetable = h("section", { id: "timetable", "aria-labelledby": "timetable-h" });
  let schools = [];
  let subjects = [];
  let teachers = [];  // for the teacher field's suggestions, and to show usernames, not ids
  const teacherList = h("datalist", { id: "teacher-list" });

  const school = h("select", { name: "school_id", id: "device-school", required: true });
  const classroom = h("input", { name: "classroom", required: true, maxlength: 64, id: "device-classroom" });
  const name = h("input", { name: "name", required: true, maxlength: 100, id: "device-name" });
  const form = h("form", { class: "sk-form", id: "device-form", "aria-labelledby": "device-form-h" },
    field(t("school"), school), field(t("classroom"), classroom), field(t("name"), name),
    h("div", { class: "sk-actions" }, h("button", { type: "submit", class: "sk-primary" }, t("register"))));
  root.replaceChildren(h("div", { class: "sk-page", id: "admin-devices" }, h("h1", {}, t("title")),
    h("h2", { id: "device-form-h" }, t("register")), form, tokenBox, status, counter, list, timetable, teacherList));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const device = await call(ctx, "POST", "/devices", { json: { school_id: school.value, classroom: classroom.value, name: name.value } });
      status.show(t("registered", { name: device.name }), "ok");
      tokenBox.replaceChildren(h("p", {}, t("token")), h("p", { class: "sk-token" }, device.token));
      form.reset();
      await load();
    } catch (error) { status.fail(error); }
  });

  async function revoke(device) {
    if (!window.confirm(t("confirm_revoke", { name: device.name }))) return;
    try {
      await call(ctx, "POST", `/devices/${device.id}/revoke`);
      status.show(t("revoked", { name: device.name }), "ok");
      await load();
    } catch (error) { status.fail(error); }
  }

  function slotRow(slot = {}) {
    const subjectPick = select("subject", [["", "—"], ...subjects.map((s) => [s.code, s.name])], slot.subject || "", { "aria-label": t("subject") });
    return h("tr", { class: "slot" },
      h("td", {}, h("input", { name: "teacher", required: true, list: "teacher-list", "aria-label": t("teacher"),
        value: (teachers.find((u) => u.id === slot.teacher_id) || {}).username || slot.teacher_id || slot.teacher || "" })),
      h("td", {}, subjectPick),
      h("td", {}, h("input", { name: "grade", value: slot.grade || "", size: 6, "aria-label": t("grade") })),
      h("td", {}, h("input", { name: "class_name", value: slot.class_name || "", size: 8, "aria-label": t("class_name") })),
      h("td", {}, h("input", { name: "start", type: "datetime-local", required: true, value: toLocalInput(slot.start), "aria-label": t("start") })),
      h("td", {}, h("input", { name: "end", type: "datetime-local", required: true, value: toLocalInput(slot.end), "aria-label": t("end") })),
      h("td", {}, h("button", { type: "button", class: "sk-danger", onclick: (event) => event.target.closest("tr").remove() }, t("remove"))));
  }

  async function openTimetable(device) {
    try {
      teachers = (await allPages(ctx, "/users").catch(() => []))
        .filter((u) => u.school_id === device.school_id && u.roles.includes("teacher") && u.is_active);
      teacherList.replaceChildren(...teachers.map((u) => h("option", { value: u.username }, u.real_name)));
      const schedule = await call(ctx, "GET", `/devices/${device.id}/schedule`);
      const body = h("tbody", {}, schedule.slots.map(slotRow));
      const slots = h("form", { id: "timetable-form" },
        h("div", { class: "sk-scroll" }, h("table", { class: "sk-table" },
          h("thead", {}, h("tr", {}, [t("teacher"), t("subject"), t("grade"), t("class_name"), t("start"), t("end"), ""].map((c) => h("th", { scope: "col" }, c)))),
          body)),
        schedule.slots.length ? null : h("p", { class: "sk-muted" }, t("no_slots")),
        h("div", { class: "sk-row" },
          h("button", { type: "button", id: "add-slot", onclick: () => body.append(slotRow()) }, t("add_slot")),
          h("button", { type: "submit", class: "sk-primary" }, t("save_timetable"))));
      slots.addEventListener("submit", async (event) => {
        event.preventDefault();
        const rows = [...body.querySelectorAll("tr.slot")].map((row) => {
          const value = (n) => row.querySelector(`[name=${n}]`).value;
          const slot = { teacher: value("teacher"), class_name: value("class_name"), start: fromLocalInput(value("start")), end: fromLocalInput(value("end")) };
          if (value("subject")) slot.subject = value("subject");
          if (value("grade")) slot.grade = value("grade");
          return slot;
        });
        try {
          const saved = await call(ctx, "PUT", `/devices/${device.id}/schedule`, { json: { slots: rows } });
          await openTimetable(device);  // redrawn from what the API kept
          status.show(t("saved", { n: saved.slots.length }), "ok");
        } catch (error) { status.fail(error); }
      });
      const file = h("input", { type: "file", accept: ".ics,text/calendar", id: "ics-file" });
      const ics = h("form", { class: "sk-row" }, field(t("ics"), file), h("button", { type: "submit" }, t("upload_ics")));
      ics.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (!file.files.length) return;
        try {
          // The client sends JSON bodies; a calendar goes as text/calendar with the same headers.
          const response = await fetch(`${ctx.api.base}/devices/${device.id}/schedule`, {
            method: "PUT", headers: { ...ctx.api.authHeaders(), "Content-Type": "text/calendar" }, body: await file.files[0].text() });
          const reply = await response.json();
          if (!response.ok) throw Object.assign(new Error(reply.detail || response.statusText), { problem: reply });
          await openTimetable(device);
          status.show(t("saved", { n: reply.slots.length }), "ok");
        } catch (error) { status.fail(error); }
      });
      timetable.replaceChildren(h("h2", { id: "timetable-h" }, t("timetable_of", { name: `${device.name}（${device.classroom}）` })),
        slots, ics, h("button", { type: "button", onclick: () => timetable.replaceChildren() }, t("close")));
      timetable.querySelector("button, input").focus();
    } catch (error) { status.fail(error); }
  }

  async function load() {
    try {
      const chosen = school.value;
      schools = await allPages(ctx, "/schools");
      school.replaceChildren(...schools.map((s) => h("option", { value: s.id }, s.name)));
      if (chosen) school.value = chosen;
      if (!subjects.length) subjects = await allPages(ctx, "/taxonomy/subjects").catch(() => []);
      const names = Object.fromEntries(schools.map((s) => [s.id, s.name]));
      const devices = await allPages(ctx, "/devices");
      counter.textContent = t("count", { n: devices.length });
      list.replaceChildren(table([
        { label: t("name"), cell: (d) => d.name },
        { label: t("school"), cell: (d) => names[d.school_id] || d.school_id },
        { label: t("classroom"), cell: (d) => d.classroom },
        { label: t("state"), cell: (d) => (d.revoked_at ? t("revoked_at", { when: when(d.revoked_at, lang) }) : t("active")) },
        { label: t("last_seen"), cell: (d) => (d.last_seen_at ? when(d.last_seen_at, lang) : t("never")) },
        { label: t("actions"), cell: (d) => h("div", { class: "sk-row" },
          h("button", { type: "button", onclick: () => openTimetable(d), "aria-label": `${t("timetable")} ${d.name}` }, t("edit_timetable")),
          d.revoked_at ? null : h("button", { type: "button", class: "sk-danger", onclick: () => revoke(d), "aria-label": `${t("revoke")} ${d.name}` }, t("revoke"))) },
      ], devices, { caption: t("title") }));
    } catch (error) { status.fail(error); }
  }

  await load();
}
