// The UI's little JavaScript: uploads through the JSON API, follows jobs' progress (server-sent
// events, or polling when many run at once) and switches the report's page viewer.
"use strict";

(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const FINISHED = ["done", "failed", "cancelled"];
  const MAX_STREAMS = 4; // a browser keeps about six connections per host; leave some free

  // Jobs ---------------------------------------------------------------------------------------

  function showJob(el, job) {
    const pct = Math.round((job.progress || 0) * 100);
    el.dataset.state = job.state;
    const bar = el.querySelector(".bar");
    bar.classList.toggle("bar-done", job.state === "done");
    bar.classList.toggle("bar-failed", job.state === "failed" || job.state === "cancelled");
    bar.setAttribute("aria-valuenow", String(pct));
    el.querySelector(".fill").style.width = pct + "%";
    el.querySelector(".job-stage").textContent = job.stage_zh || job.state;
    el.querySelector(".job-pages").textContent =
      job.pages_total ? job.pages_done + "/" + job.pages_total + " 页" : "";
    el.querySelector(".job-pct").textContent = pct + "%";
    const link = el.querySelector(".job-report");
    if (job.report_id) {
      link.href = "/reports/" + job.report_id;
      link.hidden = false;
    }
    const error = el.querySelector(".job-error");
    if (job.error) {
      error.textContent = "审查失败：" + job.error;
      error.hidden = false;
    }
  }

  function stream(el) {
    const source = new EventSource("/api/jobs/" + el.dataset.job + "/events");
    const onEvent = (event) => showJob(el, JSON.parse(event.data));
    source.addEventListener("progress", onEvent);
    source.addEventListener("end", (event) => {
      onEvent(event);
      source.close();
    });
    // EventSource reconnects by itself after a network error; a refusal (401/404) ends it.
  }

  function poll(el) {
    const tick = () => fetch("/api/jobs/" + el.dataset.job, { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((job) => {
        showJob(el, job);
        if (!FINISHED.includes(job.state)) setTimeout(tick, 2500);
      })
      .catch(() => setTimeout(tick, 5000));
    tick();
  }

  let streams = 0;
  function watch(el) {
    if (!el.dataset.job || FINISHED.includes(el.dataset.state)) return;
    if (streams < MAX_STREAMS) {
      streams += 1;
      stream(el);
    } else {
      poll(el);
    }
  }

  // Uploads ------------------------------------------------------------------------------------

  function errorText(status, body) {
    if (body && body.error) {
      return (body.error.message_zh || "请求失败") + "：" + body.error.message;
    }
    if (body && body.detail) return "请求有误（" + status + "）";
    if (status === 413) return "文件太大，超出上传限制。";
    return "上传失败（" + (status || "网络错误") + "），请重试。";
  }

  // XMLHttpRequest rather than fetch: it reports how much of the upload has been sent.
  function send(url, formData, progressBox) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.responseType = "json";
      if (progressBox) {
        const fill = progressBox.querySelector(".fill");
        const label = progressBox.querySelector("span");
        progressBox.hidden = false;
        fill.style.width = "0%";
        label.textContent = "正在上传…";
        xhr.upload.addEventListener("progress", (e) => {
          if (e.lengthComputable) {
            const pct = Math.round((e.loaded / e.total) * 100);
            fill.style.width = pct + "%";
            label.textContent = pct < 100 ? "正在上传 " + pct + "%" : "已上传，正在检查文件…";
          }
        });
      }
      xhr.addEventListener("load", () => {
        if (progressBox) progressBox.hidden = true;
        if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
        else reject(errorText(xhr.status, xhr.response));
      });
      xhr.addEventListener("error", () => {
        if (progressBox) progressBox.hidden = true;
        reject(errorText(0, null));
      });
      xhr.send(formData);
    });
  }

  function newJobBlock(title, meta, precheck, jobId) {
    const template = document.getElementById("dossier-template");
    const block = template.content.firstElementChild.cloneNode(true);
    const chip = block.querySelector(".chip");
    chip.textContent = precheck ? "预审" : "正式";
    chip.classList.add(precheck ? "precheck" : "official");
    if (precheck) block.classList.add("is-precheck");
    block.querySelector(".dossier-title").textContent = title;
    block.querySelector(".dossier-meta").textContent = meta;
    block.querySelector(".job").dataset.job = String(jobId);
    block.classList.add("fresh");
    return block;
  }

  function labUpload(form) {
    const errorBox = form.querySelector("[data-upload-error]");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      errorBox.hidden = true;
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      const data = new FormData(form);
      if (!data.get("precheck")) data.set("precheck", "false");
      send(form.dataset.upload, data, form.querySelector("[data-upload-progress]"))
        .then((answer) => {
          const pages = answer.documents.reduce((n, d) => n + (d.pages || 0), 0);
          const block = newJobBlock("材料 #" + answer.dossier_id,
            "刚刚上传 · " + answer.documents.length + " 个文件 · " + pages + " 页",
            answer.precheck, answer.job_id);
          const list = document.getElementById("dossiers");
          const none = document.getElementById("no-dossiers");
          if (none) none.remove();
          list.prepend(block);
          watch(block.querySelector(".job"));
          form.reset();
        })
        .catch((message) => {
          errorBox.textContent = message;
          errorBox.hidden = false;
        })
        .finally(() => { button.disabled = false; });
    });
  }

  function sizeText(bytes) {
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function batchUpload(form) {
    const step2 = document.getElementById("batch-step-2");
    const step3 = document.getElementById("batch-step-3");
    const confirm = document.getElementById("batch-confirm");
    const options = document.getElementById("lab-options");
    const errorBox = document.querySelector("#batch-step-1 [data-upload-error]");
    let batchId = null;

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      errorBox.hidden = true;
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      send(form.dataset.batch, new FormData(form), form.querySelector("[data-upload-progress]"))
        .then((answer) => {
          batchId = answer.batch_id;
          const body = confirm.querySelector("tbody");
          body.replaceChildren();
          answer.files.forEach((file) => {
            const row = document.createElement("tr");
            const name = document.createElement("td");
            name.textContent = file.file;
            const size = document.createElement("td");
            size.className = "num";
            size.textContent = sizeText(file.size);
            const pick = document.createElement("td");
            const select = document.createElement("select");
            select.name = "lab";
            select.dataset.file = file.file;
            select.append(options.content.cloneNode(true));
            select.value = file.lab_id || "";
            pick.append(select);
            const why = document.createElement("td");
            why.className = "small " + (file.lab_id ? "muted" : "open-count");
            why.textContent = file.reason;
            row.append(name, size, pick, why);
            body.append(row);
          });
          step2.hidden = false;
          step2.scrollIntoView({ behavior: "smooth", block: "start" });
        })
        .catch((message) => {
          errorBox.textContent = message;
          errorBox.hidden = false;
        })
        .finally(() => { button.disabled = false; });
    });

    confirm.addEventListener("submit", (event) => {
      event.preventDefault();
      const errorBox2 = confirm.querySelector("[data-confirm-error]");
      errorBox2.hidden = true;
      const assignments = Array.from(confirm.querySelectorAll("select[name=lab]"))
        .map((s) => ({ file: s.dataset.file, lab_id: s.value || null }));
      const precheck = confirm.querySelector("input[name=precheck]").checked;
      const button = confirm.querySelector('button[type="submit"]');
      button.disabled = true;
      fetch("/api/batches/" + encodeURIComponent(batchId), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({ assignments: assignments, precheck: precheck }),
      })
        .then((r) => r.json().then((body) => (r.ok ? body : Promise.reject(errorText(r.status, body)))))
        .then((answer) => {
          const list = step3.querySelector(".batch-jobs");
          answer.jobs.forEach((job) => {
            const block = newJobBlock(job.lab_id, job.files.join("、"), precheck, job.job_id);
            list.append(block);
            watch(block.querySelector(".job"));
          });
          step2.hidden = true;
          step3.hidden = false;
        })
        .catch((message) => {
          errorBox2.textContent = typeof message === "string" ? message : "提交失败，请重试。";
          errorBox2.hidden = false;
          button.disabled = false;
        });
    });
  }

  // Records import (secretariat) ------------------------------------------------------------

  function recordsImport(form) {
    const errorBox = form.querySelector("[data-records-error]");
    const resultBox = form.querySelector("[data-records-result]");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      errorBox.hidden = true;
      resultBox.hidden = true;
      const data = new FormData(form);
      const campaign = String(data.get("campaign") || "").trim();
      data.delete("campaign");
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      send("/api/campaigns/" + encodeURIComponent(campaign) + "/records", data, null)
        .then((r) => {
          resultBox.textContent = "已导入 " + r.records + " 条记录：新增实验室 " + r.labs_created +
            " 个，新增记录版本 " + r.versions_added + " 个，未变化 " + r.unchanged + " 个。";
          resultBox.hidden = false;
          // A new campaign, or new labs on the roster: show them.
          const fresh = !form.querySelector("input[type=hidden][name=campaign]");
          if (fresh || r.labs_created > 0) {
            setTimeout(() => { location.href = "/campaigns/" + encodeURIComponent(campaign); }, 1200);
          }
        })
        .catch((message) => {
          errorBox.textContent = message;
          errorBox.hidden = false;
        })
        .finally(() => { button.disabled = false; });
    });
  }

  // Report page viewer -------------------------------------------------------------------------

  function viewer() {
    const image = document.querySelector("[data-viewer-image]");
    if (!image) return;
    const caption = document.querySelector("[data-viewer-caption]");
    const open = document.querySelector("[data-viewer-open]");
    const frame = image.parentElement;
    image.addEventListener("load", () => frame.classList.remove("loading"));

    function show(key) {
      const link = document.querySelector('.page-link[data-page="' + key + '"]');
      if (!link) return false;
      document.querySelectorAll(".page-link.current").forEach((l) => l.classList.remove("current"));
      link.classList.add("current");
      if (image.getAttribute("src") !== link.dataset.src) {
        frame.classList.add("loading");
        image.src = link.dataset.src;
        frame.scrollTop = 0;
      }
      caption.textContent = link.dataset.caption;
      if (open) open.href = link.dataset.src;
      const [doc, page] = key.split("-");
      history.replaceState(null, "", "?doc=" + doc + "&page=" + page + location.hash);
      return true;
    }

    document.addEventListener("click", (event) => {
      const link = event.target.closest("[data-page], [data-show-page]");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
      if (show(link.dataset.page || link.dataset.showPage)) event.preventDefault();
    });
  }

  // Start --------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".job[data-job]").forEach(watch);
    const upload = document.getElementById("upload-form");
    if (upload) labUpload(upload);
    const batch = document.getElementById("batch-form");
    if (batch) batchUpload(batch);
    document.querySelectorAll("form[data-records]").forEach(recordsImport);
    viewer();
    document.querySelectorAll("[data-campaign-switch] select").forEach((select) => {
      select.addEventListener("change", () => select.form.submit());
    });
    document.querySelectorAll("form.decide").forEach((form) => {
      form.addEventListener("submit", () => {
        form.querySelector('button[type="submit"]').disabled = true;
      });
    });
  });
})();
