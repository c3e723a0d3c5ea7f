// Progressive enhancement for auditwire's pages; every page works without it.
"use strict";

function enhanceTabs(list) {
  const tabs = Array.from(list.querySelectorAll('[role="tab"]'));
  function select(tab) {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      const panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    }
    history.replaceState(null, "", tab.href);
  }
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", (event) => {
      event.preventDefault();
      select(tab);
    });
    tab.addEventListener("keydown", (event) => {
      let next = null;
      if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
      if (event.key === "ArrowLeft") next = tabs[(index - 1 + tabs.length) % tabs.length];
      if (event.key === "Home") next = tabs[0];
      if (event.key === "End") next = tabs[tabs.length - 1];
      if (next) {
        event.preventDefault();
        next.focus();
        select(next);
      }
    });
  });
}

function enhanceCopy(button) {
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(source.value);
    } catch (error) {
      source.select();
      document.execCommand("copy");
    }
    button.textContent = "Copied";
  });
}

function enhanceConfirm(form) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

function enhanceHeaders(fieldset) {
  const rows = fieldset.querySelector("[data-header-rows]");
  const button = fieldset.querySelector("[data-add-header]");
  const max = Number(fieldset.dataset.max);
  button.hidden = false;
  button.addEventListener("click", () => {
    const count = rows.querySelectorAll("[data-header-row]").length;
    if (count >= max) return;
    const row = rows.querySelector("[data-header-row]").cloneNode(true);
    for (const input of row.querySelectorAll("input")) {
      const base = input.id.replace(/_\d+$/, "");
      const label = row.querySelector(`label[for="${input.id}"]`);
      input.id = `${base}_${count}`;
      if (label) label.htmlFor = input.id;
      if (input.type === "checkbox") {
        input.value = String(count);
        input.checked = true;
      } else {
        input.value = "";
      }
    }
    rows.appendChild(row);
    if (count + 1 >= max) button.disabled = true;
  });
}

// An HTTP destination's batching settings apply to batched formats only.
function enhanceFormat(select) {
  const batching = select.form.querySelector("[data-batching]");
  if (!batching) return;
  const show = () => {
    batching.hidden = select.value === "event";
  };
  select.addEventListener("change", show);
  show();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-tabs]").forEach(enhanceTabs);
  document.querySelectorAll("[data-copy]").forEach(enhanceCopy);
  document.querySelectorAll("form[data-confirm]").forEach(enhanceConfirm);
  document.querySelectorAll("[data-headers]").forEach(enhanceHeaders);
  document.querySelectorAll("select[data-format]").forEach(enhanceFormat);
});
