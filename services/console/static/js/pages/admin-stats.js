// The district in figures, as charts (ECharts, vendored by infra/console.sh): 学科资源覆盖率 by
// knowledge point (GET /statistics/coverage) and participation by school
// (GET /statistics/participation/schools), with the API's own CSV exports. Every figure is the
// API's; the page only draws it.
import { allPages, call, download, ensureStyle, field, h, select, statusLine, table, translator } from "./staff-kit.js";

export const strings = {
  zh: {
    title: "统计：覆盖率与参与度", coverage: "学科资源覆盖率（按知识点）", subject: "学科", stage: "学段", edition: "教材版本",
    any_edition: "全部版本", depth: "知识点层级", depth_n: "第 {n} 层", show: "查看", covered: "已覆盖", uncovered: "未覆盖",
    coverage_of: "{covered} / {total} 个知识点有已发布资源，覆盖率 {pct}", resources: "已发布资源数", point: "知识点",
    participation: "各校参与度", semester: "学期", semester_hint: "留空为本学期，例如 2026-fall", district_line:
      "全区 {schools} 所学校中 {publishing} 所本学期发布了资源；教师 {teachers} 人，发布资源的 {pt} 人；发布 {published} 个资源，播放 {plays} 次。",
    published: "本学期发布", publishing_teachers: "发布资源的教师", teachers: "教师", plays: "播放次数", exchanges: "结对交流次数",
    share: "教师参与率", school: "学校", csv_schools: "导出各校 CSV", csv_coverage: "导出覆盖率 CSV", csv_district: "导出全区 CSV", downloaded: "已下载 {name}",
    chart_coverage: "覆盖率图表：各知识点的已发布资源数", chart_pie: "覆盖率饼图", chart_participation: "参与度图表：各校发布与播放",
    table_view: "图表数据（表格）", no_points: "该学科学段没有知识点。",
  },
  en: {
    title: "Statistics: coverage and participation", coverage: "Subject resource coverage (by knowledge point)", subject: "Subject",
    stage: "Stage", edition: "Edition", any_edition: "all editions", depth: "Level", depth_n: "level {n}", show: "Show", covered: "covered",
    uncovered: "not covered", coverage_of: "{covered} of {total} knowledge points have published resources: {pct}",
    resources: "Published resources", point: "Knowledge point", participation: "Participation by school", semester: "Semester",
    semester_hint: "blank: this semester, e.g. 2026-fall", district_line:
      "{publishing} of the district's {schools} schools published this semester; {pt} of {teachers} teachers published; {published} resources published, played {plays} times.",
    published: "Published this semester", publishing_teachers: "Teachers publishing", teachers: "Teachers", plays: "Plays",
    exchanges: "Paired exchanges", share: "Teachers taking part", school: "School", csv_schools: "Export schools (CSV)", csv_coverage: "Export coverage (CSV)",
    csv_district: "Export district (CSV)", downloaded: "Downloaded {name}", chart_coverage: "Coverage chart: published resources per knowledge point",
    chart_pie: "Coverage pie", chart_participation: "Participation chart: publishing and plays by school", table_view: "Chart data (table)",
    no_points: "No knowledge points for this subject and stage.",
  },
};

function percent(value) {
  return value == null ? "—" : `${(value * 100).toFixed(1)}%`;
}

export async function render(root, ctx) {
  ensureStyle();
  const t = ctx.t || translator(ctx, strings);
  const status = statusLine();
  const charts = [];
  const echarts = await import(ctx.asset ? ctx.asset("vendor/echarts/echarts.esm.min.mjs") : "../../vendor/echarts/echarts.esm.min.mjs");

  function chart(node, option) {
    const existing = echarts.getInstanceByDom(node);
    const instance = existing || echarts.init(node, null, { renderer: "canvas" });
    if (!existing) charts.push(instance);
    instance.setOption(option, true);
    node.dataset.rendered = "true";
    return instance;
  }

  const [subjects, stages, editions] = await Promise.all(["subjects", "stages", "editions"].map(
    (name) => allPages(ctx, `/taxonomy/${name}`).catch(() => [])));
  const subject = select("subject", subjects.map((s) => [s.code, s.name]), subjects.some((s) => s.code === "math") ? "math" : subjects[0]?.code, { id: "coverage-subject" });
  const stage = select("stage", stages.map((s) => [s.code, s.name]), stages.some((s) => s.code === "primary") ? "primary" : stages[0]?.code, { id: "coverage-stage" });
  const edition = select("edition", [["", t("any_edition")], ...editions.map((e) => [e.code, e.name])], "", { id: "coverage-edition" });
  const depth = h("select", { name: "depth", id: "coverage-depth" });
  const coverageForm = h("form", { class: "sk-form", id: "coverage-form" }, field(t("subject"), subject), field(t("stage"), stage),
    field(t("edition"), edition), field(t("depth"), depth), h("div", { class: "sk-actions" }, h("button", { type: "submit", class: "sk-primary" }, t("show")),
      h("button", { type: "button", id: "csv-coverage", onclick: () => exportCoverage() }, t("csv_coverage"))));
  const coverageLine = h("p", { id: "coverage-summary" });
  const pieNode = h("div", { class: "sk-chart", id: "coverage-pie", role: "img", "aria-label": t("chart_pie"), style: "height: 260px" });
  const barNode = h("div", { class: "sk-chart", id: "coverage-chart", role: "img", "aria-label": t("chart_coverage") });
  const coverageTable = h("details", {}, h("summary", {}, t("table_view")));

  const semester = h("input", { name: "semester", id: "participation-semester", maxlength: 32 });
  const participationForm = h("form", { class: "sk-form", id: "participation-form" }, field(t("semester"), semester, t("semester_hint")),
    h("div", { class: "sk-actions" }, h("button", { type: "submit", class: "sk-primary" }, t("show")),
      h("button", { type: "button", id: "csv-schools", onclick: () => exportCsv("/statistics/participation/schools", "participation-schools.csv") }, t("csv_schools")),
      h("button", { type: "button", id: "csv-district", onclick: () => exportCsv("/statistics/participation", "participation.csv") }, t("csv_district"))));
  const districtLine = h("p", { id: "participation-summary" });
  const participationNode = h("div", { class: "sk-chart", id: "participation-chart", role: "img", "aria-label": t("chart_participation") });
  const participationTable = h("details", {}, h("summary", {}, t("table_view")));

  root.replaceChildren(h("div", { class: "sk-page", id: "admin-stats" }, h("h1", {}, t("title")), status,
    h("section", { "aria-labelledby": "coverage-h" }, h("h2", { id: "coverage-h" }, t("coverage")), coverageForm, coverageLine, pieNode, barNode, coverageTable),
    h("section", { "aria-labelledby": "participation-h" }, h("h2", { id: "participation-h" }, t("participation")), participationForm, districtLine,
      participationNode, participationTable)));

  let coverage = null;

  function drawCoverage() {
    const shown = coverage.points.filter((p) => depth.value === "all" || p.depth === Number(depth.value));
    coverageLine.textContent = t("coverage_of", { covered: coverage.points_covered, total: coverage.points_total, pct: percent(coverage.coverage) });
    chart(pieNode, {
      tooltip: { trigger: "item" }, legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["40%", "70%"], data: [
        { name: t("covered"), value: coverage.points_covered, itemStyle: { color: "#14612b" } },
        { name: t("uncovered"), value: coverage.points_total - coverage.points_covered, itemStyle: { color: "#a3121b" } }] }],
    });
    if (!shown.length) { coverageLine.textContent += ` ${t("no_points")}`; }
    chart(barNode, {
      tooltip: { trigger: "axis" }, grid: { left: 8, right: 32, top: 16, bottom: 36, containLabel: true },
      xAxis: { type: "value", name: t("resources"), nameLocation: "middle", nameGap: 28, minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: shown.map((p) => p.name), axisLabel: { width: 160, overflow: "truncate" } },
      dataZoom: shown.length > 25 ? [{ type: "slider", yAxisIndex: 0, start: 0, end: Math.round((25 / shown.length) * 100), right: 0 }, { type: "inside", yAxisIndex: 0 }] : [],
      series: [{ type: "bar", name: t("resources"), data: shown.map((p) => ({ value: p.count, itemStyle: { color: p.count ? "#0b3d91" : "#a3121b" } })),
        label: { show: true, position: "right" } }],
    });
    coverageTable.replaceChildren(h("summary", {}, t("table_view")), table([
      { label: t("point"), cell: (p) => `${"　".repeat(Math.max(p.depth - minDepth(), 0))}${p.name}` },
      { label: t("resources"), cell: (p) => p.count },
    ], shown));
  }

  function minDepth() { return Math.min(...coverage.points.map((p) => p.depth)); }

  async function loadCoverage() {
    try {
      coverage = await call(ctx, "GET", "/statistics/coverage", { query: { subject: subject.value, stage: stage.value, edition: edition.value } });
      const depths = [...new Set(coverage.points.map((p) => p.depth))].sort((a, b) => a - b);
      const chosen = depth.value;
      depth.replaceChildren(...depths.map((d) => h("option", { value: String(d) }, t("depth_n", { n: d - depths[0] + 1 }))), h("option", { value: "all" }, "∗"));
      depth.value = chosen && [...depth.options].some((o) => o.value === chosen) ? chosen : String(depths[Math.min(1, depths.length - 1)] ?? "all");
      drawCoverage();
    } catch (error) { status.fail(error); }
  }

  async function loadParticipation() {
    try {
      const query = { semester: semester.value.trim() };
      const district = await call(ctx, "GET", "/statistics/participation", { query });
      const d = district.district;
      if (!semester.value) semester.placeholder = district.filters.semester.code;
      districtLine.textContent = t("district_line", { schools: d.schools, publishing: d.schools_publishing, teachers: d.teachers,
        pt: d.publishing_teachers, published: d.resources_published, plays: d.plays });
      const schools = await allPages(ctx, "/statistics/participation/schools", query);
      chart(participationNode, {
        tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: schools.map((s) => s.school_name), axisLabel: { interval: 0, rotate: schools.length > 6 ? 30 : 0 } },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }],
        dataZoom: schools.length > 15 ? [{ type: "slider", xAxisIndex: 0, start: 0, end: Math.round((15 / schools.length) * 100) }] : [],
        series: [
          { type: "bar", name: t("published"), data: schools.map((s) => s.resources_published), itemStyle: { color: "#0b3d91" } },
          { type: "bar", name: t("plays"), data: schools.map((s) => s.plays), itemStyle: { color: "#7a4b00" } },
          { type: "bar", name: t("exchanges"), data: schools.map((s) => s.pairings.reduce((n, p) => n + (p.exchanges_held || 0), 0)), itemStyle: { color: "#5b2a86" } },
          { type: "line", name: t("share"), yAxisIndex: 1, data: schools.map((s) => (s.publishing_share == null ? null : Math.round(s.publishing_share * 1000) / 10)), itemStyle: { color: "#14612b" } },
        ],
      });
      participationTable.replaceChildren(h("summary", {}, t("table_view")), table([
        { label: t("school"), cell: (s) => s.school_name },
        { label: t("teachers"), cell: (s) => s.teachers },
        { label: t("publishing_teachers"), cell: (s) => s.publishing_teachers },
        { label: t("share"), cell: (s) => percent(s.publishing_share) },
        { label: t("published"), cell: (s) => s.resources_published },
        { label: t("plays"), cell: (s) => s.plays },
      ], schools));
    } catch (error) { status.fail(error); }
  }

  async function exportCsv(path, fallback) {
    try {
      const query = new URLSearchParams({ format: "csv" });
      if (semester.value.trim()) query.set("semester", semester.value.trim());
      const file = await download(ctx, `${path}?${query}`, fallback);
      status.show(t("downloaded", { name: file.name }), "ok");
    } catch (error) { status.fail(error); }
  }

  async function exportCoverage() {
    try {
      const query = new URLSearchParams({ format: "csv", subject: subject.value, stage: stage.value });
      if (edition.value) query.set("edition", edition.value);
      const file = await download(ctx, `/statistics/coverage?${query}`, "coverage.csv");
      status.show(t("downloaded", { name: file.name }), "ok");
    } catch (error) { status.fail(error); }
  }

  coverageForm.addEventListener("submit", (event) => { event.preventDefault(); loadCoverage(); });
  depth.addEventListener("change", () => { if (coverage) drawCoverage(); });
  participationForm.addEventListener("submit", (event) => { event.preventDefault(); loadParticipation(); });
  const resize = () => charts.forEach((c) => c.resize());
  window.addEventListener("resize", resize);

  await Promise.all([loadCoverage(), loadParticipation()]);
  return () => { window.removeEventListener("resize", resize); charts.forEach((c) => c.dispose()); };
}
