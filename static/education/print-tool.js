// A "Print this" button under each tool a module gives (a checklist, a card), printing the
// tool alone. A file, not inline script: the Content-Security-Policy allows only 'self'.
document.querySelectorAll(".module-body .admonition.tool").forEach((tool) => {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-success btn-sm print-tool no-print";
  const title = tool.querySelector(".admonition-title");
  button.textContent = "Print this";
  button.setAttribute("aria-label", `Print: ${title ? title.textContent : "this tool"}`);
  button.addEventListener("click", () => {
    document.body.classList.add("printing-tool");
    window.print();
  });
  tool.appendChild(button);
});
window.addEventListener("afterprint", () => document.body.classList.remove("printing-tool"));
