// The report page's review forms: clicking a cell chooses it for a correction; deleting asks first.
document.addEventListener("DOMContentLoaded", () => {
  const key = document.getElementById("correct-key");
  if (key) {
    document.querySelectorAll("td.cell").forEach((td) => td.addEventListener("click", () => {
      if (![...key.options].some((o) => o.value === td.dataset.key)) return;
      key.value = td.dataset.key;
      const shown = td.textContent.trim();  // the value in force, to be edited ("空" and "—" are blanks)
      document.getElementById("correct-value").value = /^[-\d.,]+$/.test(shown) ? shown.replace(/,/g, "") : "";
    }));
  }
  const del = document.getElementById("delete-report");
  if (del) {
    del.addEventListener("submit", (ev) => {
      if (!window.confirm("确定删除这份报告吗？它的数据和审核发现将一并删除。")) ev.preventDefault();
    });
  }
});
