// The report page's review forms: clicking a cell chooses it for a correction; deleting asks first.
// Both are delegated from the document, so they work while a long report page is still loading.
document.addEventListener("click", (ev) => {
  const td = ev.target.closest && ev.target.closest("td.cell");
  const key = document.getElementById("correct-key");
  if (!td || !key || ![...key.options].some((o) => o.value === td.dataset.key)) return;
  key.value = td.dataset.key;
  const shown = td.textContent.trim();  // the value in force, to be edited ("空" and "—" are blanks)
  document.getElementById("correct-value").value = /^[-\d.,]+$/.test(shown) ? shown.replace(/,/g, "") : "";
});
document.addEventListener("submit", (ev) => {
  if (ev.target.id !== "delete-report") return;
  if (!window.confirm("确定删除这份报告吗？它的数据和审核发现将一并删除。")) ev.preventDefault();
});
