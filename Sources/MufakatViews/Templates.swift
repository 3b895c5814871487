import Foundation
import Mustache

/// The Mustache templates of the brief and the dashboard, compiled once. HTML templates
/// escape every value; the Markdown one is text, its cells escaped by ``markdownCell(_:)``.
/// No template computes: the view data hands them text, numbers already suppressed.
enum Templates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in sources {
            do {
                try library.register(text, named: name)
            } catch {
                preconditionFailure("template \(name) does not parse: \(error)")
            }
        }
        return library
    }()

    /// A table cell's text for Markdown: one line, no raw HTML (a Markdown viewer would
    /// render a `<script>` typed into a title), and no Markdown of its own — a title typed as
    /// `[minutes](http://…)` or `![](http://…/pixel.png)` would become a hidden link or an
    /// image fetched by whoever opens the brief. Pipes, brackets, `!`, emphasis and code
    /// marks are escaped with a backslash; the text reads the same.
    static func markdownCell(_ text: String) -> String {
        var cell = ""
        for character in text {
            switch character {
            case "&": cell += "&amp;"
            case "<": cell += "&lt;"
            case ">": cell += "&gt;"
            case "\\", "|", "[", "]", "!", "*", "_", "`", "~": cell += "\\" + String(character)
            case _ where character.isNewline: cell += " "
            default: cell.append(character)
            }
        }
        return cell
    }

    static func day(_ milliseconds: Int64) -> String {
        String(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000)).prefix(10))
    }

    static func time(_ milliseconds: Int64) -> String {
        let text = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        return String(text.prefix(16)).replacingOccurrences(of: "T", with: " ") + " UTC"
    }

    /// Print-friendly, readable on a meeting-room projector, no web fonts, no scripts.
    static let css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:0;color:#1a1a1a;background:#fff;line-height:1.4}
        header{background:#1f3b57;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center;flex-wrap:wrap}
        header a{color:#fff;text-decoration:none;padding:.2rem .4rem;border-radius:3px}
        header a[aria-current=page]{background:#fff;color:#1f3b57;font-weight:600}
        header .who{margin-left:auto;font-size:.9rem;opacity:.9}
        main{padding:1rem 1.2rem;max-width:80rem}
        h1{font-size:1.5rem;margin:.2rem 0 .8rem}h2{font-size:1.2rem;margin:1.4rem 0 .5rem}
        table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.95rem}
        th,td{border:1px solid #b8b8b8;padding:.3rem .5rem;text-align:left;vertical-align:top}
        th{background:#eef1f4}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        td.stance{min-width:9rem}td.stance .meta{display:block;font-size:.78rem;opacity:.85}
        td.conflicted{outline:3px dashed #000;outline-offset:-4px}
        .stance-no-position{border-style:dashed}
        .overdue td{background:#fff1e6}.overdue td:first-child{border-left:6px solid #b35806}
        .note{font-size:.9rem;color:#444}.legend span{display:inline-block;padding:.15rem .45rem;margin:.1rem;border:1px solid #888}
        form.filters{display:flex;gap:.8rem;flex-wrap:wrap;align-items:end;margin:.5rem 0 1rem}
        form.filters label{display:flex;flex-direction:column;font-size:.85rem}
        .suppressed{font-style:italic}.download{font-size:.9rem}
        .signin{max-width:28rem}.signin input{width:100%;padding:.4rem;font-size:1rem}.signin button{margin-top:.6rem;padding:.4rem 1rem;font-size:1rem}
        .error{color:#8a1c1c;font-weight:600}
        @media print{header{display:none}}
        """

    static let sources: [String: String] = [
        "document": """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{title}} — Mufakat</title><style>{{{css}}}</style></head>
            <body><main>{{{body}}}</main></body></html>

            """,
        "page": """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{title}} — Mufakat</title><style>{{{css}}}</style></head>
            <body>
            <header><strong>Mufakat</strong>{{#tabs}}<a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a>{{/tabs}}
            {{#signedIn}}<span class="who">{{who}}</span><form method="post" action="/signout"><button type="submit">Sign out</button></form>{{/signedIn}}</header>
            <main>{{{body}}}</main>
            </body></html>

            """,
        "message": """
            <h1>{{title}}</h1>
            <p>{{text}}</p>

            """,
        "signin": """
            <section class="signin">
            <h1>Sign in</h1>
            <p>Paste the token your hub operator gave you (it starts with <code>mft_</code>), or open the sign-in link they sent.</p>
            {{#hasError}}<p class="error" id="signin-error">{{error}}</p>{{/hasError}}
            <form method="post" action="/signin">
            <input type="hidden" name="next" value="{{next}}">
            <label>Token <input type="password" name="token" autocomplete="off" required></label>
            <button type="submit">Sign in</button>
            </form>
            </section>

            """,
        "positions": """
            <h1>Positions</h1>
            <p class="note">Each cell: the stance in words and colour, its influence, and the last change. A dashed frame marks a stance in conflict, with every candidate. <a class="download" href="/positions.csv">Download CSV</a></p>
            <p class="legend">{{#legend}}<span style="{{style}}">{{words}}</span>{{/legend}}</p>
            {{#hasRows}}
            <table id="positions"><thead><tr><th>Subject</th>{{#asks}}<th data-ask="{{id}}">{{title}}</th>{{/asks}}</tr></thead><tbody>
            {{#rows}}<tr data-subject="{{id}}"><th>{{name}}{{#government}} <span class="note">(government)</span>{{/government}}</th>
            {{#cells}}{{#empty}}<td class="empty">—</td>{{/empty}}{{^empty}}<td class="stance {{class}}{{#conflicted}} conflicted{{/conflicted}}" data-position="{{id}}" style="{{style}}">
            <strong>{{words}}</strong>{{#conflicted}}<span class="meta">in conflict:</span>{{#candidates}}<span class="meta candidate">{{text}}</span>{{/candidates}}{{/conflicted}}
            <span class="meta">{{influence}}</span><span class="meta">{{changed}}</span></td>{{/empty}}{{/cells}}</tr>
            {{/rows}}</tbody></table>
            {{/hasRows}}
            {{^hasRows}}<p>No positions yet.</p>{{/hasRows}}

            """,
        "figures": """
            <h1>Figures</h1>
            <form class="filters" method="get" action="/figures">
            <label>Indicator <select name="indicator">{{#indicators}}<option{{#selected}} selected{{/selected}}>{{value}}</option>{{/indicators}}</select></label>
            <label>By <select name="by">{{#groupings}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/groupings}}</select></label>
            <label>Period <select name="period">{{#granularities}}<option{{#selected}} selected{{/selected}}>{{value}}</option>{{/granularities}}</select></label>
            <label>Country <input name="country" value="{{country}}" size="3" placeholder="all"></label>
            <label>From <input name="from" value="{{from}}" size="8" placeholder="2025-Q1"></label>
            <label>To <input name="to" value="{{to}}" size="8"></label>
            <button type="submit">Show</button>
            </form>
            {{#hasError}}<p class="error">{{error}}</p>{{/hasError}}
            <p class="note">Submitted and validated figures without disaggregation ({{reports}} reports). Counts below {{threshold}} show as &lt;{{threshold}}; a total that would let a reader work one out shows as –. <a class="download" href="{{csv}}">Download CSV</a></p>
            {{#hasRows}}
            {{#chart}}{{#hasBars}}<svg id="figures-chart" role="img" aria-label="Figures of {{period}} by row" width="{{width}}" height="{{height}}" viewBox="0 0 {{width}} {{height}}" xmlns="http://www.w3.org/2000/svg">
            <defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#555" stroke-width="2"/></pattern></defs>
            <text x="0" y="16" font-size="13" font-weight="600">{{period}}</text>
            <line x1="{{axisX}}" y1="22" x2="{{axisX}}" y2="{{axisBottom}}" stroke="#333"/>
            {{#bars}}<text x="{{x}}" dx="-6" y="{{labelY}}" text-anchor="end" font-size="12">{{label}}</text>{{#shown}}<rect x="{{x}}" y="{{y}}" width="{{w}}" height="{{h}}" fill="#542788"/>{{/shown}}{{#small}}<rect x="{{x}}" y="{{y}}" width="{{w}}" height="{{h}}" fill="url(#hatch)" stroke="#555"/>{{/small}}<text x="{{textX}}" y="{{labelY}}" font-size="12">{{text}}</text>
            {{/bars}}</svg>{{/hasBars}}{{/chart}}
            <table id="figures"><thead><tr><th>{{byLabel}}</th>{{#periods}}<th class="num">{{name}}</th>{{/periods}}<th class="num">Total</th></tr></thead><tbody>
            {{#rows}}<tr><td>{{label}}</td>{{#cells}}<td class="num{{#suppressed}} suppressed{{/suppressed}}">{{text}}</td>{{/cells}}<td class="num{{#totalSuppressed}} suppressed{{/totalSuppressed}}">{{total}}</td></tr>
            {{/rows}}<tr><th>Total</th>{{#columnTotals}}<td class="num{{#suppressed}} suppressed{{/suppressed}}">{{text}}</td>{{/columnTotals}}<td class="num">{{grandTotal}}</td></tr>
            {{#countryLine}}<tr class="country"><th>Whole country, as reported</th>{{#cells}}<td class="num{{#suppressed}} suppressed{{/suppressed}}">{{text}}</td>{{/cells}}<td class="num{{#totalSuppressed}} suppressed{{/totalSuppressed}}">{{total}}</td></tr>
            {{/countryLine}}</tbody></table>
            {{/hasRows}}
            {{^hasRows}}<p>No figures match.</p>{{/hasRows}}

            """,
        "follow-ups": """
            <h1>Follow-ups</h1>
            <p class="note">As of {{today}}: {{overdueCount}} overdue, listed first. <a class="download" href="/follow-ups.csv">Download CSV</a></p>
            <h2>Actions</h2>
            {{#hasActions}}<table id="actions"><thead><tr><th>Action</th><th>Owner</th><th>Due</th><th>Status</th><th>Meeting</th><th>Ask</th></tr></thead><tbody>
            {{#actions}}<tr data-action="{{id}}"{{#overdue}} class="overdue"{{/overdue}}><td>{{title}}{{#overdue}} <strong>(overdue)</strong>{{/overdue}}</td><td>{{owner}}</td><td>{{due}}</td><td>{{status}}</td><td>{{meeting}}</td><td>{{ask}}</td></tr>
            {{/actions}}</tbody></table>{{/hasActions}}
            {{^hasActions}}<p>No actions yet.</p>{{/hasActions}}
            <h2>Meetings</h2>
            {{#hasMeetings}}<table id="meetings"><thead><tr><th>Date</th><th>Meeting</th><th>Host</th><th>Attendees</th><th>Decisions</th></tr></thead><tbody>
            {{#meetings}}<tr><td>{{date}}</td><td>{{title}}</td><td>{{host}}</td><td>{{attendees}}</td><td>{{decisions}}</td></tr>
            {{/meetings}}</tbody></table>{{/hasMeetings}}
            {{^hasMeetings}}<p>No meetings yet.</p>{{/hasMeetings}}

            """,
        "replicas": """
            <h1>Replicas and conflicts</h1>
            {{#showReplicas}}<h2>Replicas</h2>
            <p class="note">Who synced when, and how many changes of the hub's feed each has not received yet. <a class="download" href="/replicas.csv">Download CSV</a></p>
            {{#hasReplicas}}<table id="replicas"><thead><tr><th>Replica</th><th>Person</th><th>Organization</th><th>Client</th><th>Last sync</th><th>Behind</th></tr></thead><tbody>
            {{#replicas}}<tr><td><code>{{replica}}</code></td><td>{{name}}</td><td>{{org}}</td><td>{{client}}</td><td>{{lastSeen}}</td><td>{{behind}}</td></tr>
            {{/replicas}}</tbody></table>{{/hasReplicas}}
            {{^hasReplicas}}<p>No replica has synced yet.</p>{{/hasReplicas}}{{/showReplicas}}
            <h2>Waiting for a person</h2>
            {{#hasConflicts}}<table id="conflicts"><thead><tr><th>Record</th><th>Field</th><th>Candidates</th></tr></thead><tbody>
            {{#conflicts}}{{#fields}}<tr><td>{{collection}} <code>{{id}}</code></td><td>{{field}}</td><td>{{#candidates}}<div>{{text}}</div>{{/candidates}}</td></tr>{{/fields}}
            {{/conflicts}}</tbody></table>{{/hasConflicts}}
            {{^hasConflicts}}<p>Nothing: every record agrees.</p>{{/hasConflicts}}

            """,
        "brief-form": """
            <form class="filters" method="get" action="/brief"><label>Month <input name="month" value="{{month}}" size="8" pattern="[0-9]{4}-[0-9]{2}"></label><button type="submit">Show</button> <a class="download" href="/brief.md?month={{month}}">Download Markdown</a></form>

            """,
        "brief-html": """
            <section class="brief" id="brief">
            <h1>Coordination brief, {{month}}</h1>
            <p class="note">Actions judged on {{asOf}}. Counts below {{threshold}} are shown as &lt;{{threshold}}, and totals that would reveal one as –.</p>
            <h2>Positions that changed</h2>
            {{#hasChanges}}<table id="brief-changes"><thead><tr><th>Subject</th><th>Ask</th><th>From</th><th>To</th><th>By</th><th>On</th></tr></thead><tbody>
            {{#changes}}<tr><td>{{subject}}</td><td>{{ask}}</td><td>{{from}}</td><td class="{{toClass}}">{{to}}</td><td>{{by}}</td><td>{{when}}</td></tr>
            {{/changes}}</tbody></table>{{/hasChanges}}
            {{^hasChanges}}<p>No position changed this month.</p>{{/hasChanges}}
            {{#figureTables}}<h2>Figures for {{period}}</h2>
            <table class="brief-figures"><thead><tr><th>Organization</th>{{#indicators}}<th class="num">{{name}}</th>{{/indicators}}<th class="num">Total</th></tr></thead><tbody>
            {{#rows}}<tr><td>{{label}}</td>{{#cells}}<td class="num">{{text}}</td>{{/cells}}<td class="num">{{total}}</td></tr>
            {{/rows}}<tr><th>Total</th>{{#columnTotals}}<td class="num">{{text}}</td>{{/columnTotals}}<td class="num">{{grandTotal}}</td></tr></tbody></table>
            {{/figureTables}}
            {{^hasFigures}}<h2>Figures</h2><p>No submitted figures for the periods that end this month.</p>{{/hasFigures}}
            <h2>Overdue actions</h2>
            {{#hasOverdue}}<table id="brief-overdue"><thead><tr><th>Action</th><th>Owner</th><th>Due</th><th>Status</th><th>Ask</th></tr></thead><tbody>
            {{#overdue}}<tr class="overdue"><td>{{title}}</td><td>{{owner}}</td><td>{{due}}</td><td>{{status}}</td><td>{{ask}}</td></tr>
            {{/overdue}}</tbody></table>{{/hasOverdue}}
            {{^hasOverdue}}<p>None.</p>{{/hasOverdue}}
            <h2>Actions due this month</h2>
            {{#hasDue}}<table id="brief-due"><thead><tr><th>Action</th><th>Owner</th><th>Due</th><th>Status</th><th>Ask</th></tr></thead><tbody>
            {{#due}}<tr><td>{{title}}</td><td>{{owner}}</td><td>{{due}}</td><td>{{status}}</td><td>{{ask}}</td></tr>
            {{/due}}</tbody></table>{{/hasDue}}
            {{^hasDue}}<p>None.</p>{{/hasDue}}
            <h2>Open conflicts</h2>
            {{#hasConflicts}}<ul id="brief-conflicts">{{#conflicts}}<li>{{collection}} {{id}}: {{#fields}}{{field}} — {{candidates}}; {{/fields}}</li>
            {{/conflicts}}</ul>{{/hasConflicts}}
            {{^hasConflicts}}<p>None: every record agrees.</p>{{/hasConflicts}}
            </section>

            """,
        "brief-md": """
            {{% CONTENT_TYPE: TEXT}}
            # Coordination brief, {{month}}

            Actions judged on {{asOf}}. Counts below {{threshold}} are shown as <{{threshold}}, and totals that would reveal one as –.

            ## Positions that changed

            {{#hasChanges}}
            | Subject | Ask | From | To | By | On |
            |---|---|---|---|---|---|
            {{#changes}}
            | {{subject}} | {{ask}} | {{from}} | {{to}} | {{by}} | {{when}} |
            {{/changes}}
            {{/hasChanges}}
            {{^hasChanges}}
            No position changed this month.
            {{/hasChanges}}

            {{#figureTables}}
            ## Figures for {{period}}

            | Organization |{{#indicators}} {{name}} |{{/indicators}} Total |
            |{{markdownRule}}
            {{#rows}}
            | {{label}} |{{#cells}} {{text}} |{{/cells}} {{total}} |
            {{/rows}}
            | **Total** |{{#columnTotals}} {{text}} |{{/columnTotals}} {{grandTotal}} |

            {{/figureTables}}
            {{^hasFigures}}
            ## Figures

            No submitted figures for the periods that end this month.

            {{/hasFigures}}

            ## Overdue actions

            {{#hasOverdue}}
            | Action | Owner | Due | Status | Ask |
            |---|---|---|---|---|
            {{#overdue}}
            | {{title}} | {{owner}} | {{due}} | {{status}} | {{ask}} |
            {{/overdue}}
            {{/hasOverdue}}
            {{^hasOverdue}}
            None.
            {{/hasOverdue}}

            ## Actions due this month

            {{#hasDue}}
            | Action | Owner | Due | Status | Ask |
            |---|---|---|---|---|
            {{#due}}
            | {{title}} | {{owner}} | {{due}} | {{status}} | {{ask}} |
            {{/due}}
            {{/hasDue}}
            {{^hasDue}}
            None.
            {{/hasDue}}

            ## Open conflicts

            {{#hasConflicts}}
            {{#conflicts}}
            - {{collection}} {{id}}: {{#fields}}{{field}} — {{candidates}}; {{/fields}}
            {{/conflicts}}
            {{/hasConflicts}}
            {{^hasConflicts}}
            None: every record agrees.
            {{/hasConflicts}}

            """,
    ]
}
