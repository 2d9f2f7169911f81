// 城乡结对帮扶 pairs (GET/POST /pairings, DELETE /pairings/{id}) and each pair's semester plan
// (GET/POST /pairings/{id}/plans, PUT …/plans/{semester}): the goal in exchanges and subjects.
import { allPages, call, ensureStyle, field, h, pageLang, statusLine, table, translator, when } from "./staff-kit.js";

export const strings = {
  zh: {
    title: "城乡结对", helper: "帮扶学校（城）", assisted: "受援学校（乡）", create: "新建结对", created: "已结对：{a} → {b}",
    remove: "解除结对", confirm_remove: "确定解除“{a} → {b}”的结对？", removed: "已解除结对", since: "结对时间", actions: "操作",
    plans: "学期计划", plans_of: "学期计划：{a} → {b}", semester: "学期", semester_hint: "例如 2026-fall、2027-spring",
    goal: "目标交流次数", subjects: "学科", save_plan: "保存计划", plan_saved: "计划已保存：{semester}", no_plans: "暂无计划。",
    edit: "修改", count: "共 {n} 对", close: "关闭",
  },
  en: {
    title: "Paired schools", helper: "Helper school (urban)", assisted: "Assisted school (rural)", create: "Pair schools",
    created: "Paired: {a} → {b}", remove: "Unpair", confirm_remove: "Unpair “{a} → {b}”?", removed: "Unpaired", since: "Paired on",
    actions: "Actions", plans: "Semester plans", plans_of: "Semester plans: {a} → {b}", semester: "Semester",
    semester_hint: "e.g. 2026-fall, 2027-spring", goal: "Exchanges planned", subjects: "Subjects", save_plan: "Save plan",
    plan_saved: "Plan saved: {semester}", no_plans: "No plan yet.", edit: "Edit", count: "{n} pairs", close: "Close",
  },
};

export async function render(root, ctx) {
  ensureStyle();
  const t = ctx.t || translator(ctx, strings);
  const lang = pageLang(ctx);
  const status = statusLine();
  const list = h("div", { id: "pairings-list" });
  const counter = h("p", { class: "sk-muted" });
  const plansBox = h("section", { id: "pairing-plans" });
  let names = {};
  let subjects = [];

  const helper = h("select", { name: "helper_school_id", required: true, id: "pairing-helper" });
  const assisted = h("select", { name: "assisted_school_id", required: true, id: "pairing-assisted" });
  const form = h("form", { class: "sk-form", id: "pairing-form", "aria-labelledby": "pairing-form-h" },
    field(t("helper"), helper), field(t("assisted"), assisted),
    h("div", { class: "sk-actions" }, h("button", { type: "submit", class: "sk-primary" }, t("create"))));
  root.replaceChildren(h("div", { class: "sk-page", id: "admin-pairings" }, h("h1", {}, t("title")),
    h("h2", { id: "pairing-form-h" }, t("create")), form, status, counter, list, plansBox));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const pairing = await call(ctx, "POST", "/pairings", { json: { helper_school_id: helper.value, assisted_school_id: assisted.value } });
      status.show(t("created", { a: names[pairing.helper_school_id], b: names[pairing.assisted_school_id] }), "ok");
      await load();
    } catch (error) { status.fail(error); }
  });

  async function unpair(pairing) {
    const pair = { a: names[pairing.helper_school_id], b: names[pairing.assisted_school_id] };
    if (!window.confirm(t("confirm_remove", pair))) return;
    try {
      await call(ctx, "DELETE", `/pairings/${pairing.id}`);
      status.show(t("removed"), "ok");
      plansBox.replaceChildren();
      await load();
    } catch (error) { status.fail(error); }
  }

  async function openPlans(pairing) {
    const pair = { a: names[pairing.helper_school_id], b: names[pairing.assisted_school_id] };
    try {
      const plans = await call(ctx, "GET", `/pairings/${pairing.id}/plans`);
      const semester = h("input", { name: "semester", required: true, maxlength: 16, id: "plan-semester" });
      const goal = h("input", { name: "goal_exchanges", type: "number", min: 1, max: 100, value: "2", required: true, id: "plan-goal" });
      const subjectBoxes = subjects.map((s) => h("label", {}, h("input", { type: "checkbox", value: s.code }), " ", s.name));
      let existing = null;
      const planForm = h("form", { class: "sk-form", id: "plan-form" },
        field(t("semester"), semester, t("semester_hint")), field(t("goal"), goal),
        h("fieldset", {}, h("legend", {}, t("subjects")), h("div", { class: "sk-row" }, subjectBoxes)),
        h("div", { class: "sk-actions" }, h("button", { type: "submit", class: "sk-primary" }, t("save_plan"))));
      const fill = (plan) => {
        existing = plan;
        semester.value = plan.semester;
        goal.value = String(plan.goal_exchanges);
        for (const label of subjectBoxes) { const box = label.querySelector("input"); box.checked = plan.subjects.includes(box.value); }
        semester.focus();
      };
      planForm.addEventListener("submit", async (event) => {
        event.preventDefault();
        const chosen = subjectBoxes.map((l) => l.querySelector("input")).filter((b) => b.checked).map((b) => b.value);
        const body = { goal_exchanges: Number(goal.value), subjects: chosen,
          teachers: existing && existing.semester === semester.value ? existing.teachers : { helper: [], assisted: [] } };
        try {
          const known = plans.some((p) => p.semester === semester.value);
          const plan = known
            ? await call(ctx, "PUT", `/pairings/${pairing.id}/plans/${encodeURIComponent(semester.value)}`, { json: body })
            : await call(ctx, "POST", `/pairings/${pairing.id}/plans`, { json: { ...body, semester: semester.value } });
          status.show(t("plan_saved", { semester: plan.semester }), "ok");
          await openPlans(pairing);
        } catch (error) { status.fail(error); }
      });
      const subjectName = Object.fromEntries(subjects.map((s) => [s.code, s.name]));
      plansBox.replaceChildren(h("h2", {}, t("plans_of", pair)),
        plans.length ? table([
          { label: t("semester"), cell: (p) => p.semester },
          { label: t("goal"), cell: (p) => p.goal_exchanges },
          { label: t("subjects"), cell: (p) => p.subjects.map((c) => subjectName[c] || c).join("、") || "—" },
          { label: t("actions"), cell: (p) => h("button", { type: "button", onclick: () => fill(p) }, t("edit")) },
        ], plans) : h("p", { class: "sk-muted" }, t("no_plans")),
        planForm, h("button", { type: "button", onclick: () => plansBox.replaceChildren() }, t("close")));
    } catch (error) { status.fail(error); }
  }

  async function load() {
    try {
      const schools = await allPages(ctx, "/schools");
      names = Object.fromEntries(schools.map((s) => [s.id, s.name]));
      const options = (kinds) => [...schools.filter((s) => kinds.includes(s.kind)), ...schools.filter((s) => !kinds.includes(s.kind))]
        .map((s) => h("option", { value: s.id }, s.name));
      const [h0, a0] = [helper.value, assisted.value];
      helper.replaceChildren(...options(["urban", "town"]));
      assisted.replaceChildren(...options(["rural", "teaching_point"]));
      if (h0) helper.value = h0;
      if (a0) assisted.value = a0;
      if (!subjects.length) subjects = await allPages(ctx, "/taxonomy/subjects").catch(() => []);
      const pairings = await allPages(ctx, "/pairings");
      counter.textContent = t("count", { n: pairings.length });
      list.replaceChildren(table([
        { label: t("helper"), cell: (p) => names[p.helper_school_id] || p.helper_school_id },
        { label: t("assisted"), cell: (p) => names[p.assisted_school_id] || p.assisted_school_id },
        { label: t("since"), cell: (p) => when(p.created_at, lang) },
        { label: t("actions"), cell: (p) => h("div", { class: "sk-row" },
          h("button", { type: "button", onclick: () => openPlans(p) }, t("plans")),
          h("button", { type: "button", class: "sk-danger", onclick: () => unpair(p) }, t("remove"))) },
      ], pairings, { caption: t("title") }));
    } catch (error) { status.fail(error); }
  }

  await load();
}
