using System.Text.Json.Nodes;
using FederatedSharp.Coordinator.Security;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Coordinator.Tests.TestUtilities;
using Microsoft.Playwright;

namespace FederatedSharp.Coordinator.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser (headless Chromium from the distribution), against a coordinator and nodes on
/// loopback running real jobs. Every wait is on something the page or the coordinator does, never a fixed sleep.
/// </summary>
[NonParallelizable]
public sealed class DashboardTests
{
    private static readonly string[] Training = ["cleveland", "hungary", "switzerland"];
    private LocalFederation _federation = null!;
    private DashboardBrowser _browser = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        if (!File.Exists(DashboardBrowser.ExecutablePath))
        {
            Assert.Ignore($"{DashboardBrowser.SkipReason} at {DashboardBrowser.ExecutablePath} (apt-get install -y chromium; .ci/run installs it)");
        }

        _federation = await LocalFederation.StartAsync(LocalFederation.Sites);
        foreach (string site in Training)
        {
            _federation.Approve(site, LocalFederation.PlanJson);
            _federation.Approve(site, DpPlanJson);
        }

        _browser = await DashboardBrowser.LaunchAsync(_federation.Home, _federation.Host.Address);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        if (_federation is not null)
        {
            await _federation.DisposeAsync();
        }
    }

    /// <summary>The Heart Disease plan with DP-SGD at every site, so the job spends a measurable epsilon, and a cross-site evaluation at the end.</summary>
    private static string DpPlanJson
    {
        get
        {
            JsonNode plan = JsonNode.Parse(LocalFederation.PlanJson)!;
            plan["name"] = "heart-disease-dp-sgd";
            plan["privacy"] = new JsonObject { ["dpSgd"] = new JsonObject { ["maxGradNorm"] = 1.0, ["noiseMultiplier"] = 1.1, ["delta"] = 1e-5 } };
            plan["federation"]!["crossSiteEvaluation"] = true;
            return plan.ToJsonString();
        }
    }

    [Test]
    public async Task JobPage_JobRunsWhileOpen_RoundCounterAdvancesAndPlotsDrawWithoutReloading()
    {
        string token = await ApiTokens.IssueAsync(_federation.Host.Store, "dr.lee", Role.Researcher, TimeSpan.FromDays(1), "admin", TimeProvider.System);
        IPage page = await _browser.SignInAsync(token);

        // Submit the plan through the form; no node is connected yet, so the job waits, queued, at round 0.
        await page.GotoAsync("/dashboard/jobs/new");
        await page.FillAsync("textarea[name=plan]", DpPlanJson);
        await page.FillAsync("input[name=datasets]", "heart");
        await page.FillAsync("input[name=minNodes]", "3");
        await page.ClickAsync("#submit-form button[type=submit]");
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath.StartsWith("/dashboard/jobs/job-", StringComparison.Ordinal));
        string job = new Uri(page.Url).AbsolutePath["/dashboard/jobs/".Length..];
        Assert.That(await page.TextContentAsync("#job-progress .rounds-done"), Is.EqualTo("0"));
        await page.WaitForFunctionAsync("() => document.getElementById('live-status').classList.contains('on')");
        await page.EvaluateAsync("""
            () => {
              window.__samePage = true;
              window.__seen = [];
              const note = () => {
                const v = document.querySelector('#job-progress .rounds-done')?.textContent;
                if (v !== undefined && window.__seen[window.__seen.length - 1] !== v) window.__seen.push(v);
              };
              new MutationObserver(note).observe(document.getElementById('job-live'), { subtree: true, childList: true, characterData: true });
            }
            """);

        // Now the sites connect and the job runs while the page watches. The coordinator's record of round 5 is held
        // until the page shows it, so a slow page cannot miss every round between 0 and 15 however fast the rounds go.
        using (RoundGate gate = RoundGate.Hold(_federation, job, round: 5))
        {
            foreach (string site in LocalFederation.Sites)
            {
                _federation.StartAgent(site);
            }

            await page.WaitForFunctionAsync("() => document.querySelector('#job-progress .rounds-done')?.textContent === '5'", null, new PageWaitForFunctionOptions { Timeout = 180_000 });
        }

        await page.WaitForFunctionAsync("() => document.querySelector('#job-progress .rounds-done')?.textContent === '15'", null, new PageWaitForFunctionOptions { Timeout = 180_000 });
        await page.WaitForSelectorAsync("#job-live .status-row .badge.succeeded", new PageWaitForSelectorOptions { Timeout = 60_000 });

        Assert.That(await page.EvaluateAsync<bool>("() => window.__samePage === true"), Is.True, "the page was never reloaded");
        int[] seen = (await page.EvaluateAsync<string[]>("() => window.__seen")).Select(int.Parse).ToArray();
        Assert.That(seen, Is.Ordered.Ascending, "the counter only moves forward");
        Assert.That(seen.Any(v => v is > 0 and < 15), Is.True, $"the counter was seen between 0 and 15, not only at the end: {string.Join(", ", seen)}");
        Assert.That(await page.Locator("#chart-loss circle.point").CountAsync(), Is.EqualTo(15), "one point per round on the loss plot");
        Assert.That(await page.Locator("#chart-binary_accuracy circle.point").CountAsync(), Is.EqualTo(15), "one point per round on the accuracy plot");
        string epsilon = (await page.TextContentAsync("#epsilon .card-value"))!;
        Assert.That(double.Parse(epsilon, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0).And.LessThan(100), "the epsilon DP-SGD spent");
        foreach (string site in Training)
        {
            Assert.That(await page.TextContentAsync($"#job-nodes tr[data-node={site}] td:nth-child(6)"), Is.EqualTo("15"), $"{site} contributed to every round");
        }

        Assert.That(await page.TextContentAsync("#job-nodes tr[data-node=va]"), Does.Contain("pending approval"));
        Assert.That(await page.Locator("#cross-site-binary_accuracy rect.cell").CountAsync(), Is.EqualTo(4 * 3), "the global and three local models on three sites");
        Assert.That(await page.Locator("#cross-site-binary_accuracy text.cell-label", new() { HasText = "n/a" }).CountAsync(), Is.Zero, "every evaluation answered");
        await AssertNoSiteRowsAsync(page);
        await DashboardBrowser.ScreenshotAsync(page, "dashboard-job.png");
        await page.GotoAsync("/dashboard");
        await page.WaitForSelectorAsync($"tr[data-job='{job}'] .badge.succeeded");
        Assert.That(await page.TextContentAsync($"tr[data-job='{job}'] td.epsilon"), Is.EqualTo(epsilon), "the job's epsilon in the jobs table");
        await DashboardBrowser.ScreenshotAsync(page, "dashboard-overview.png");
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task NodesPage_Admin_IssuesATokenApprovesAnEnrolmentAndRevokesANode()
    {
        await _federation.RequestEnrolmentAsync("ghent");
        IPage page = await _browser.SignInAsync(_federation.AdminToken);
        await page.GotoAsync("/dashboard/nodes");
        ILocator ghent = page.Locator("#nodes-table tr[data-node=ghent]");
        Assert.That(await ghent.Locator(".badge").First.TextContentAsync(), Is.EqualTo("pending enrolment"));

        await ghent.Locator("button", new() { HasText = "Approve" }).ClickAsync();
        await page.WaitForSelectorAsync("#nodes-table tr[data-node=ghent] .badge.active");
        Assert.That(await page.TextContentAsync(".notice"), Does.Contain("ghent is enrolled"));
        await DashboardBrowser.ScreenshotAsync(page, "dashboard-nodes.png");

        await page.FillAsync("#nodes-table tr[data-node=ghent] input[name=reason]", "site closed");
        await page.ClickAsync("#nodes-table tr[data-node=ghent] button.danger");
        await page.WaitForSelectorAsync("#nodes-table tr[data-node=ghent] .badge.revoked");
        Assert.That((await _federation.Host.Store.GetNodeAsync("ghent"))!.RevokedReason, Is.EqualTo("site closed"));

        await page.FillAsync("input[name=node]", "leuven");
        await page.ClickAsync("form[action='/dashboard/nodes/token'] button");
        Assert.That(await page.TextContentAsync("#enrolment-token"), Does.StartWith("fse_"), "a one-time token, shown once");
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task JobPage_ResearcherCancelsTheirOwnQueuedJob_ShowsItCancelled()
    {
        string token = await ApiTokens.IssueAsync(_federation.Host.Store, "dr.ito", Role.Researcher, TimeSpan.FromDays(1), "admin", TimeProvider.System);
        using HttpClient api = _federation.Client(token);
        string job = await LocalFederation.SubmitAsync(api, UnapprovedPlanJson("cancel-me"));
        IPage page = await _browser.SignInAsync(token);
        await page.GotoAsync($"/dashboard/jobs/{job}");
        await page.ClickAsync("#cancel-form button");
        await page.WaitForSelectorAsync("#job-live .status-row .badge.cancelled");
        Assert.That(await page.TextContentAsync(".notice"), Does.Contain("The job was cancelled."));
        Assert.That(await page.Locator("#cancel-form").CountAsync(), Is.Zero, "a cancelled job offers no cancel button");
        Assert.That((await _federation.Host.Store.GetJobAsync(job))!.Status, Is.EqualTo(JobStatus.Cancelled));
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task Dashboard_AnonymousViewerAndOtherResearcher_AreRefused401RedirectAnd403()
    {
        string owner = await ApiTokens.IssueAsync(_federation.Host.Store, "dr.sato", Role.Researcher, TimeSpan.FromDays(1), "admin", TimeProvider.System);
        using HttpClient api = _federation.Client(owner);
        string job = await LocalFederation.SubmitAsync(api, UnapprovedPlanJson("not-yours"));

        // Anonymous: pages go to sign-in, fragments, events and actions are 401.
        IPage anonymous = await _browser.NewPageAsync();
        await anonymous.GotoAsync("/dashboard/nodes");
        Assert.That(anonymous.Url, Does.Contain("/login?returnUrl=%2Fdashboard%2Fnodes"));
        Assert.That((await FetchAsync(anonymous, "POST", $"/dashboard/jobs/{job}/cancel")).Status, Is.EqualTo(401));
        Assert.That((await FetchAsync(anonymous, "GET", "/dashboard/live/jobs")).Status, Is.EqualTo(401));
        Assert.That((await FetchAsync(anonymous, "GET", "/dashboard/events")).Status, Is.EqualTo(401));
        await anonymous.FillAsync("input[name=token]", "fsa_not-a-token");
        await anonymous.ClickAsync("#login-form button[type=submit]");
        Assert.That(await anonymous.TextContentAsync("#login-error"), Does.Contain("unknown, expired or revoked"));
        await DashboardBrowser.ScreenshotAsync(anonymous, "dashboard-login.png");
        await anonymous.Context.CloseAsync();

        // A viewer sees the job but is offered no cancel button, and a forged cancel with its own valid form token is 403.
        string viewerToken = await ApiTokens.IssueAsync(_federation.Host.Store, "monitor", Role.Viewer, TimeSpan.FromDays(1), "admin", TimeProvider.System);
        IPage viewer = await _browser.SignInAsync(viewerToken);
        IReadOnlyList<BrowserContextCookiesResult> cookies = await viewer.Context.CookiesAsync();
        BrowserContextCookiesResult session = cookies.Single(c => c.Name == "__Host-fedsharp");
        Assert.That((session.HttpOnly, session.Secure, session.SameSite), Is.EqualTo((true, true, SameSiteAttribute.Strict)), "the session cookie is HTTP-only, secure and same-site strict");
        await viewer.GotoAsync($"/dashboard/jobs/{job}");
        Assert.That(await viewer.Locator("#cancel-form").CountAsync(), Is.Zero);
        Assert.That(await PostFormAsync(viewer, $"/dashboard/jobs/{job}/cancel"), Is.EqualTo((403, true)), "a viewer may not cancel");
        Assert.That(await PostFormAsync(viewer, $"/dashboard/jobs/{job}/cancel", withToken: false), Is.EqualTo((400, false)), "no anti-forgery token, no action");
        await viewer.GotoAsync("/dashboard/jobs/new");
        Assert.That(await viewer.TextContentAsync("#problem"), Does.Contain("A viewer may not see this page."));
        Assert.That((await _federation.Host.Store.GetJobAsync(job))!.Status, Is.Not.EqualTo(JobStatus.Cancelled));

        // Another researcher may not cancel dr.sato's job.
        string other = await ApiTokens.IssueAsync(_federation.Host.Store, "dr.kim", Role.Researcher, TimeSpan.FromDays(1), "admin", TimeProvider.System);
        IPage kim = await _browser.SignInAsync(other);
        await kim.GotoAsync($"/dashboard/jobs/{job}");
        Assert.That(await kim.Locator("#cancel-form").CountAsync(), Is.Zero);
        Assert.That(await PostFormAsync(kim, $"/dashboard/jobs/{job}/cancel"), Is.EqualTo((403, false)));

        // Revoking the viewer's token ends its session at the next request.
        await _federation.Host.Store.RevokeApiTokensAsync("monitor", DateTimeOffset.UtcNow);
        await viewer.GotoAsync("/dashboard");
        Assert.That(new Uri(viewer.Url).AbsolutePath, Is.EqualTo("/login"));
        await viewer.Context.CloseAsync();
        await kim.Context.CloseAsync();
    }

    [Test]
    public async Task AuditPage_RecordTamperedOnDisk_ReportsTheIntactChainThenTheBrokenEntry()
    {
        string token = await ApiTokens.IssueAsync(_federation.Host.Store, "auditor", Role.Viewer, TimeSpan.FromDays(1), "admin", TimeProvider.System);
        IPage page = await _browser.SignInAsync(token);
        await page.GotoAsync("/dashboard/audit");
        Assert.That(await page.GetAttributeAsync("#audit-verdict", "class"), Does.Contain("valid").And.Not.Contain("invalid"));
        Assert.That(await page.TextContentAsync("#audit-verdict"), Does.StartWith("Hash chain intact"));
        await DashboardBrowser.ScreenshotAsync(page, "dashboard-audit.png");

        string original = await TamperAsync(2, "approved by nobody");
        try
        {
            await page.ReloadAsync();
            Assert.That(await page.GetAttributeAsync("#audit-verdict", "class"), Does.Contain("invalid"));
            Assert.That(await page.TextContentAsync("#audit-verdict"), Does.Contain("entry 3: the entry does not match its hash (it was changed)"));
            Assert.That(await page.TextContentAsync("#audit-table tr.broken"), Does.Contain("approved by nobody"));
            await DashboardBrowser.ScreenshotAsync(page, "dashboard-audit-tampered.png");
        }
        finally
        {
            await TamperAsync(2, original);
        }

        await page.ReloadAsync();
        Assert.That(await page.TextContentAsync("#audit-verdict"), Does.StartWith("Hash chain intact"), "restoring the entry restores the chain");
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task Pages_CommonLaptopWidths_FitWithoutHorizontalScrollingAndHoldNoSiteData()
    {
        IPage page = await _browser.SignInAsync(_federation.AdminToken);
        using HttpClient api = _federation.Client(_federation.AdminToken);
        string job = (await _federation.Host.Store.ListJobsAsync()).OrderByDescending(j => j.Status == JobStatus.Succeeded).FirstOrDefault()?.Id
            ?? await LocalFederation.SubmitAsync(api, UnapprovedPlanJson("widths"));
        foreach ((int width, int height) in new[] { (1280, 800), (1366, 768), (1440, 900), (1536, 864), (1920, 1080) })
        {
            await page.SetViewportSizeAsync(width, height);
            foreach (string path in new[] { "/dashboard", "/dashboard/jobs", $"/dashboard/jobs/{job}", "/dashboard/nodes", "/dashboard/audit", "/dashboard/jobs/new" })
            {
                await page.GotoAsync(path);
                int overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
                Assert.That(overflow, Is.LessThanOrEqualTo(0), $"{path} at {width}x{height} scrolls sideways by {overflow}px");
                if (width == 1366)
                {
                    await AssertNoSiteRowsAsync(page);
                }
            }
        }

        await page.Context.CloseAsync();
    }

    /// <summary>A form post from inside the page with the page's own anti-forgery token (or none): the status, and whether the body says a viewer may not.</summary>
    private static async Task<(int Status, bool ViewerRefused)> PostFormAsync(IPage page, string url, bool withToken = true)
    {
        (int status, string text) = await FetchAsync(page, "POST", url, withToken);
        return (status, text.Contains("A viewer may not do this.", StringComparison.Ordinal));
    }

    /// <summary>A request made by the page itself (its cookies, its origin), with the page's anti-forgery token on a POST unless told not to.</summary>
    private static async Task<(int Status, string Text)> FetchAsync(IPage page, string method, string url, bool withToken = true)
    {
        var answer = await page.EvaluateAsync<System.Text.Json.JsonElement>("""
            async ([method, url, withToken]) => {
              const body = method === 'POST' ? new URLSearchParams() : undefined;
              if (body && withToken) body.set('__csrf', document.querySelector('meta[name=fedsharp-csrf]').content);
              const r = await fetch(url, { method, body, redirect: 'manual' });
              return { status: r.status, text: r.status === 200 && url.endsWith('/events') ? '' : await r.text() };
            }
            """, new object[] { method, url, withToken });
        return (answer.GetProperty("status").GetInt32(), answer.GetProperty("text").GetString()!);
    }

    /// <summary>Changes an audit entry's detail straight in the database file, as an intruder with disk access would; returns the old detail.</summary>
    private async Task<string> TamperAsync(long sequence, string detail)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + _federation.Home.StoreConnectionString);
        await connection.OpenAsync();
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT detail FROM audit WHERE seq = $s";
        read.Parameters.AddWithValue("$s", sequence);
        string original = (string)(await read.ExecuteScalarAsync())!;
        await using var write = connection.CreateCommand();
        write.CommandText = "UPDATE audit SET detail = $d WHERE seq = $s";
        write.Parameters.AddWithValue("$d", detail);
        write.Parameters.AddWithValue("$s", sequence);
        Assert.That(await write.ExecuteNonQueryAsync(), Is.EqualTo(1));
        return original;
    }

    private static string UnapprovedPlanJson(string name)
    {
        JsonNode plan = JsonNode.Parse(LocalFederation.PlanJson)!;
        plan["name"] = name;
        return plan.ToJsonString();
    }

    /// <summary>No row of any site's table appears in a page: the dashboard shows only what the coordinator holds.</summary>
    private static async Task AssertNoSiteRowsAsync(IPage page)
    {
        string html = await page.ContentAsync();
        foreach (string site in LocalFederation.Sites)
        {
            string csv = Path.Combine(AppContext.BaseDirectory, "data", "heart-disease", site + ".csv");
            foreach (string row in File.ReadLines(csv).Skip(1))
            {
                Assert.That(html, Does.Not.Contain(row), $"a row of {site}'s data appears on {page.Url}");
            }
        }
    }
}
