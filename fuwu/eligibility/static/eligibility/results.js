// The self-check's result page. Printing opens every folded list, so the paper holds the whole result;
// the print page offers a button. A file, not inline: the Content-Security-Policy allows no inline script.
window.addEventListener("beforeprint", () => document.querySelectorAll("details").forEach((d) => { d.open = true; }));
document.querySelectorAll(".print-now").forEach((b) => { b.hidden = false; b.addEventListener("click", () => window.print()); });
