// Behaviour every page shares, wired by data-* attributes instead of inline handlers (the CSP allows no inline
// script): <select data-autosubmit> submits its form on change; <button data-print> prints the page.
(function () {
  document.addEventListener("change", function (event) {
    const field = event.target.closest("[data-autosubmit]");
    if (field && field.form) field.form.submit();
  });
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-print]");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
})();
