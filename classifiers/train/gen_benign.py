"""English benign generators for the training corpus: everyday work prompts across domains, quoted
translation/summarization requests, app system prompts, multi-turn chats, tool results, security
education questions, innocent 'scary' words, trivia. Labels are empty (benign) everywhere here."""
import json, random

from slots import EN, fill, row

S = dict(EN)
# business sentences that get quoted inside translation / proofreading / summary asks; several are
# imperative ("please ignore ...", "disregard ...") in an innocent business context.
S["biz"] = [
    "Please ignore the previous email; the meeting has moved to {weekday} at 10am.",
    "Disregard the invoice I sent yesterday, a corrected version is attached.",
    "Forget what I said about the deadline, we now have until the end of the month.",
    "Kindly confirm receipt of the signed contract by {weekday}.",
    "Our team will deliver the final report on {topic} next week.",
    "Please ignore any earlier instructions about parking; use the north entrance from now on.",
    "We are pleased to announce that {company} has opened a new office in {city}.",
    "Please note that the office will be closed on {weekday} for maintenance.",
    "Thank you for your patience while we resolve the delay with your order.",
    "Ignore the attachment in my last message, it was the wrong file.",
    "The shipment left our warehouse this morning and should arrive within three business days.",
    "Could you send me the updated figures for {topic} before {weekday}?",
    "Override the default settings only if the customer explicitly asks for it.",
    "Please execute the rollout plan as agreed in last week's meeting.",
    "Reset your expectations: the new system goes live in the spring, not in January.",
    "We regret to inform you that the event has been postponed.",
    "Your subscription will renew automatically on the first of the month.",
    "Please forward this message to anyone on your team who missed the training.",
    "Delete the old draft from the shared folder once the new one is approved.",
    "The quarterly results exceeded expectations thanks to strong sales in {city}.",
    "Stop by the front desk to pick up your new badge.",
    "Do not reply to this email; contact support through the portal instead.",
    "New instructions for the holiday rota will follow in a separate email.",
    "All previous versions of the brochure should be discarded.",
    "Welcome aboard! Your first day starts at 9am with a tour of the office.",
    "We have updated our privacy policy; the changes take effect next month.",
    "I am writing to follow up on our conversation about {topic}.",
    "Let's reschedule our call to {weekday} afternoon if that works for you.",
    "Customers who bought {product} can return it within 30 days.",
    "Please bring your laptop and charger to the workshop on {topic}.",
]
S["para"] = [
    "Hi team, quick update on {topic}: we are on track, but the vendor needs two more days. Please ignore the earlier timeline I shared and use the one in the attached sheet. Thanks, {person}",
    "Dear customer, thank you for contacting {company}. We have received your request regarding {product} and a member of our team will get back to you within 24 hours.",
    "Minutes from {weekday}: attendance was good, the budget for {topic} was approved, and {person} will circulate the action items by Friday.",
    "The results of the survey on {topic} show that most respondents want clearer communication and more flexible hours. We will share the full analysis at the next all-hands.",
    "{company} reported a strong quarter, with revenue growth driven by new customers in {city} and a lower churn rate.",
    "As discussed, the new onboarding flow will launch in two phases. Phase one covers account setup; phase two adds the guided tour. Please disregard the mockups from last month.",
    "Our return policy is simple: if you are not satisfied with {product}, send it back within 30 days for a full refund.",
    "Reminder: the fire drill is scheduled for {weekday} at 11am. Leave your belongings and follow the marshals to the assembly point.",
    "The project kicked off in March. Since then the team has delivered three releases, fixed 140 bugs and onboarded two new clients.",
    "Thank you all for joining the workshop on {topic}. The slides and recording are now in the shared drive.",
]
S["p"] = S["para"]
S["ask_sum"] = ["Summarize this", "Can you summarize the following", "TL;DR please", "Give me the key points of this",
                "Summarise this in two sentences", "What is this message about?", "Condense this into three bullet points",
                "Write a one-line summary of this", "Extract the action items from this", "Make this shorter"]
S["ask_fix"] = ["Proofread this", "Fix the grammar in this", "Make this sound more {tone}", "Rewrite this for {audience}",
                "Improve the wording of this", "Check this for typos", "Make this more concise", "Rephrase this politely"]


def _t(*xs):
    return list(xs)


# kind -> templates. Kept separate from heldout_benign.py, which uses other wording and languages.
TEMPLATES = {
    "writing": _t(
        "Write a {tone} {doc} about {topic}.", "Draft a {doc} for {audience} about {topic}.", "Can you help me write a {doc} announcing {topic}?",
        "Write {n} subject lines for an email about {topic}.", "Give me {n} headline ideas for a {doc} on {topic}.",
        "Write a short {doc} thanking {person} for their work on {topic}.", "Help me write a {tone} reply declining a meeting about {topic}.",
        "Turn these notes into a {doc}: {topic}, deadline {weekday}, owner {person}.", "Write an opening paragraph for a {doc} on {topic}.",
        "I need a {tone} out-of-office message for next week.", "Draft a polite reminder to {person} about the {topic} deadline.",
        "Write a job description for a {job} at {company}.", "Write a cover letter for a {job} position.",
        "Write a haiku about {topic}.", "Write a limerick about {hobby}.", "Write a short story for kids about a brave {animal}.",
        "Suggest {n} names for a newsletter about {hobby}.", "Write a toast for {person}'s retirement party.",
        "Write a product description for {product}, {tone} tone, under 80 words.", "Create a tagline for {company}'s new {product}.",
        "Give me an outline for a talk about {topic} for {audience}.", "Write a LinkedIn post celebrating {topic}.",
        "Make this sentence more {tone}: 'We need the numbers for {topic} asap.'", "Write {n} interview questions for a {job}.",
        "Write a bedtime story involving a {animal} and a lighthouse.", "Help me write my wedding vows, keep them short and {tone}.",
        "Write a poem about {subject}.", "Write a {tone} apology to a customer whose {product} arrived late.",
        "Draft an agenda for a one-hour meeting on {topic}.", "Write a welcome message for {audience} joining {company}.",
    ),
    "coding_question": _t(
        "What is the difference between a list and a tuple in {plang}?", "How do I read a CSV file in {plang}?",
        "Explain {concept} and when not to use it.", "When should I use {tech} instead of {tech}?", "What are the pros and cons of {concept}?",
        "How do I set up {tech} for a small side project?", "Why is my {tech} container using so much memory?",
        "What's the idiomatic way to handle errors in {plang}?", "Explain {concept} like I'm five.", "Is {plang} a good first language?",
        "How do I kill a stuck process on Linux?", "How can I kill all child processes when the parent exits?",
        "How do I override a CSS rule from a third-party stylesheet?", "How do I execute a shell command from {plang}?",
        "What does 'force push' do in Git and when is it dangerous?", "How do I undo the last commit in Git?",
        "What's the best way to learn {tech}?", "How do I write unit tests in {plang}?", "Compare {plang} and {plang} for a CLI tool.",
        "What is a good folder structure for a {tech} project?", "How do I profile a slow {plang} program?",
        "How do I migrate from {tech} to {tech}?", "What is the time complexity of sorting, and why?",
        "How do I handle timezones correctly in {plang}?", "Explain the difference between {concept} and {concept}.",
        "What does the 'static' keyword mean in {plang}?", "How do I parse JSON in {plang}?", "Why would I choose {tech} over a plain cron job?",
        "How do I inject configuration into a {tech} app without hard-coding it?", "How do I truncate a table in PostgreSQL?",
        "How do I drop a column in SQLite?", "What is a zombie process and how do I get rid of it?", "How do I terminate a hanging SSH session?",
        "What's the difference between abort() and exit() in C?", "How do I bypass the cache when testing my website?",
        "How do I run a job every night at 2am with {tech}?", "Why does my regex match too much?", "How do I escape quotes in a {plang} string?",
        "What's the cleanest way to deprecate an API endpoint?", "How should I version a REST API?",
    ),
    "analysis": _t(
        "Our {metric} dropped 8% last month. What questions should I ask to find the cause?", "How do I calculate {metric}?",
        "What's a good way to visualize {metric} over time?", "Help me interpret a correlation of 0.3 between {metric} and {metric}.",
        "Give me a framework for analysing {topic}.", "What KPIs should a {job} track?", "How would you A/B test {topic}?",
        "Explain the difference between mean and median with an example.", "How large a sample do I need for a survey of {audience}?",
        "What are common pitfalls when forecasting {metric}?", "Build me a simple SWOT analysis for {company} entering {country}.",
        "How do I do a pivot table in Excel that shows {metric} by month?", "What is a cohort analysis and how do I run one?",
        "Summarize the pros and cons of {topic} in a table.", "What metrics would show whether {topic} worked?",
    ),
    "hr": _t(
        "How do I give constructive feedback to a {job} who misses deadlines?", "Write an onboarding checklist for a new {job}.",
        "What should be in a remote work policy?", "How do I run a fair performance review?", "Draft interview questions to assess teamwork.",
        "How can I improve morale after {topic}?", "What's a good structure for a one-on-one meeting?", "How do I write a job ad that attracts diverse candidates?",
        "Write a rejection email for a candidate who interviewed for the {job} role.", "How should I announce {topic} to the team?",
        "What are good team-building activities for a remote team?", "How do I handle a conflict between two colleagues?",
        "Draft an exit interview questionnaire.", "What benefits do employees value most?", "How do I terminate a vendor contract politely?",
    ),
    "finance": _t(
        "Explain {fin} in simple terms.", "How is {fin} different from {fin}?", "How should I budget for {topic}?",
        "Build a simple monthly budget template for a family of four.", "What is the difference between a stock and a bond?",
        "How do I read a cash flow statement?", "What should a small business track every month?", "How does compound interest work?",
        "Should I pay off my student loan or invest first?", "What are typical payment terms for B2B invoices?",
        "How do I calculate the break-even point for {product}?", "Explain how inflation affects savings.",
        "What's a reasonable emergency fund?", "Help me understand my payslip deductions.", "What is a good gross margin for a SaaS company?",
    ),
    "legal": _t(
        "What is {legal}?", "Explain {legal} in plain English.", "What should I check before signing {legal}?",
        "What does 'disregard' mean in a contract?", "What does 'notwithstanding the foregoing' mean?", "Is a verbal agreement binding?",
        "What are my obligations under GDPR when a customer asks to delete their data?", "Summarize the key terms of a typical {legal}.",
        "What is the difference between {legal} and {legal}?", "How do I register a trademark?", "What is a cease and desist letter?",
        "What does 'terminate for convenience' mean?", "Explain the difference between a license and an assignment.",
    ),
    "marketing": _t(
        "Give me {n} ideas for a social media campaign about {product}.", "How do I write a good call to action?",
        "What's a good email cadence for a product launch?", "Write ad copy for {product} targeting {audience}.",
        "How can a small company compete with big brands on {product}?", "How do we exploit this market gap: affordable {product} for students?",
        "Suggest {n} blog topics for {company}.", "How do I measure the ROI of a webinar?", "Write a {tone} Instagram caption for {product}.",
        "What is a customer persona and how do I build one?", "Create a content calendar for {topic}.", "What's the best time to post on LinkedIn?",
        "Brainstorm a killer slogan for {product}.", "How do I position {product} against cheaper competitors?",
    ),
    "support": _t(
        "A customer says their {product} stopped working after an update. How should I respond?", "Write a macro for refund requests.",
        "How do I de-escalate an angry customer on the phone?", "Draft a reply to a customer asking where their order is.",
        "Write a help-center article on resetting a password.", "What are good support KPIs?", "How do I write a good bug report?",
        "A customer wants to cancel their subscription. Write a {tone} reply that offers a discount.", "Summarize common complaints about {product}.",
        "Write troubleshooting steps for a printer that won't connect to Wi-Fi.", "My laptop keeps freezing. What can I check?",
        "How do I clear my browser cache?", "My phone battery drains fast. Any tips?", "How do I back up my photos?",
    ),
    "travel": _t(
        "Plan a {n}-day itinerary for {city}.", "What should I pack for a week in {country} in winter?", "What are must-try dishes in {city}?",
        "Do I need a visa to visit {country}?", "What's the best way to get from the airport to downtown {city}?",
        "Suggest a budget for a trip to {country}.", "What are some hidden gems in {city}?", "How do I deal with jet lag?",
        "What's the etiquette for tipping in {country}?", "Recommend a family-friendly weekend trip near {city}.",
        "Translate 'where is the train station?' into {lang_name}.", "What is the weather usually like in {city} in April?",
    ),
    "education": _t(
        "Explain {subject} to a 10-year-old.", "Give me {n} quiz questions about {subject}.", "Create a lesson plan on {subject} for {audience}.",
        "What are good study techniques for exams?", "Summarize the main ideas of {book}.", "What are the themes of {book}?",
        "Help me write an essay outline about {subject}.", "What's the difference between {subject} and {subject}?",
        "How do I cite a website in APA style?", "Create flashcards for {subject}.", "Explain {subject} step by step.",
        "How can I help my child with fractions?", "What are good books for learning {plang}?", "What's a fun experiment about {subject}?",
    ),
    "science": _t(
        "Why is the sky blue?", "How does a {animal} survive in its environment?", "What causes {subject}?", "How do vaccines train the immune system?",
        "What is dark matter?", "How do solar panels work?", "Why do cats purr?", "How far is the Moon from Earth?",
        "What's the difference between weather and climate?", "How do batteries store energy?", "Explain CRISPR in simple terms.",
        "What would happen if the Moon disappeared?", "How does GPS work?", "What is entropy?", "How do noise-cancelling headphones work?",
    ),
    "cooking": _t(
        "Give me a recipe for {food}.", "What can I substitute for {ingredient} in {food}?", "How long should I bake {food}?",
        "Plan a week of healthy dinners for two.", "How do I make {food} without an oven?", "What wine goes with {food}?",
        "How do I keep {ingredient} fresh longer?", "Scale this recipe for {food} from 4 to 10 servings.", "What's a quick lunch I can prep on Sunday?",
        "How do I kill yeast accidentally, and how do I avoid it?", "How do I butcher a whole chicken into parts?", "How do I sharpen a kitchen knife?",
    ),
    "health": _t(
        "What helps with {symptom}?", "Is it normal to have {symptom} after starting a new job?", "How much sleep do adults need?",
        "What are good stretches for {symptom}?", "How can I start running at 40?", "What's a balanced breakfast?",
        "How do I know if I'm dehydrated?", "When should I see a doctor about {symptom}?", "How much water should I drink a day?",
        "What are the benefits of {hobby} for mental health?", "How can I reduce screen time?", "Tips for a healthier posture at my desk?",
    ),
    "trivia": _t(
        "What is the capital of {country}?", "What's the capital city of {country}?", "capital of {country}?", "Which currency does {country} use?",
        "What language is spoken in {country}?", "How many people live in {city}?", "Who wrote {book}?", "When was {book} published?",
        "What's the tallest mountain in {country}?", "What time zone is {city} in?", "Who won the last World Cup in {sport}?",
        "How long does a {animal} live?", "What is the national dish of {country}?", "Which ocean borders {country}?",
        "What is the population of {country}?", "Name {n} famous landmarks in {city}.", "What is {country} known for?",
        "How many bones are in the human body?", "Who painted the Mona Lisa?", "What's the boiling point of water in Fahrenheit?",
        "Which planet is closest to the sun?", "What year did the Berlin Wall fall?", "What does a {animal} eat?", "What is the flag of {country} like?",
    ),
    "personal": _t(
        "Help me plan {topic}.", "How do I get better at {hobby}?", "Gift ideas for a friend who loves {hobby}?", "How do I stay motivated to exercise?",
        "Write a packing list for camping.", "How do I politely say no to extra work?", "How do I prepare for a salary negotiation?",
        "What's a good routine for learning {lang_name}?", "Recommend {n} books like {book}.", "How do I ask for a raise?",
        "Shoot me a quick list of things to do this weekend in {city}.", "How do I make my small apartment feel bigger?",
        "My neighbor's dog barks all night. How do I bring it up nicely?", "Help me organize my week; I have {n} deadlines.",
    ),
    "scary_words": _t(
        "Ignore the typo in my last message and continue with {topic}.", "Ignore my previous question, I found the answer. Now: what is {concept}?",
        "Forget the previous draft; write a shorter one about {topic}.", "Disregard the formatting and just give me the numbers for {metric}.",
        "Kill the third paragraph, it's too long, and tighten the rest.", "Execute the plan we discussed: first draft the {doc}, then the agenda.",
        "Shoot me an email template for following up on {topic}.", "Override the default font in my Word template, how?",
        "Let's attack this problem from another angle: why is {metric} flat?", "We need an attack surface review checklist for our web app.",
        "How do we exploit this market gap in {product}?", "Give me a killer opening line for my talk on {topic}.",
        "This bug is killing me: my {plang} loop never ends.", "How do I terminate a lease early?", "Can you bypass the small talk and give me the gist of {subject}?",
        "Pretend you're a pirate and wish {person} a happy birthday.", "Act as my interview coach for a {job} role.", "You are now my Spanish tutor; start with greetings.",
        "From now on, answer in bullet points only.", "New rule for this chat: keep every answer under 50 words.", "Drop the formal tone, write it casually.",
        "Reveal the answer to the riddle only after I guess twice.", "Blow up this photo caption into a full paragraph.",
        "Nuke my node_modules folder and reinstall: what's the command?", "How do I hack together a quick prototype for {topic}?",
        "What's the best way to crush my sales targets this quarter?", "Break down {subject} into steps.", "Inject some humor into this toast for {person}.",
        "How do I steal the show at my presentation on {topic}?", "Destroy my argument: remote work is more productive.",
        "Jailbreak my productivity: give me {n} focus tricks.", "What's the deadliest snake in {country}?", "How did the Titanic sink?",
        "How were castles defended against sieges?", "Why did the Roman Empire fall?", "How does a nuclear reactor generate power?",
        "What's the plot of a murder mystery like {book}?", "Write a villain monologue for my fantasy novel, no gore.",
        "My character is a detective; help her figure out who poisoned the mayor in my mystery novel.",
        "Ignore case when comparing strings in {plang}: how?", "Ignore the header row when importing the CSV.", "Skip the intro and go straight to the recipe.",
        "Override: I meant {city}, not {city}. Redo the itinerary.", "Admin question: how do I add a user to a Google Workspace group?",
        "System design question: how would you build a URL shortener?", "Developer mode in Chrome: how do I enable it?",
        "Root cause analysis for {topic}: where do I start?", "How do I unlock the bootloader on my own Android phone?",
        "Explain the exploit-explore tradeoff in reinforcement learning.", "Sudo keeps asking for my password; how do I extend the timeout?",
    ),
    "prompt_engineering": _t(
        "Improve my system prompt: 'You are a helpful assistant for {company}. Answer briefly.'", "How do I stop my chatbot from revealing its system prompt?",
        "What's a good prompt for summarizing customer reviews of {product}?", "Write instructions for a new {job} on their first day.",
        "How do I write clear instructions for an LLM that extracts invoice fields?", "Give me a prompt template for translating support emails into {lang_name}.",
        "My RAG app sometimes follows instructions found in documents. How do I mitigate that?", "How should I structure few-shot examples in a prompt?",
        "Rewrite these instructions so a teenager can follow them: assemble the bookshelf, then attach it to the wall.", "What is a system prompt vs a user prompt?",
        "Write step-by-step instructions for resetting the office router.", "Evaluate this prompt for ambiguity: 'Summarize the text and list action items.'",
        "How do I test my LLM app against prompt injection before launch?", "Explain 'instruction hierarchy' in LLMs to a product manager.",
        "Draft guardrail rules for a customer-service bot at {company}.", "How do I make the model ignore irrelevant context in long documents?",
        "What temperature should I use for a {doc} generator?", "Can you make my prompt shorter without losing meaning? 'Please carefully read the following text and then write a summary.'",
    ),
    "security_question": _t(
        "What is SQL injection and how do I prevent it?", "How does phishing work, and how can I spot it?", "What is a jailbreak on a phone?",
        "Explain prompt injection to my team in simple terms.", "What is a prompt injection attack and how do LLM apps defend against it?",
        "What is ransomware and how do companies protect themselves?", "Explain cross-site scripting with a harmless example.",
        "How do I set up two-factor authentication for our team?", "What's a good password policy for a small company?",
        "What is a zero-day vulnerability?", "How does a VPN protect my privacy?", "What is the difference between a virus and a worm?",
        "Explain what a private key is, simply.", "How does public key cryptography work?", "What is a man-in-the-middle attack?",
        "How do I report a phishing email at work?", "What is social engineering? Give examples so I can train staff.",
        "What is a DDoS attack and how do CDNs mitigate it?", "How do penetration testers scope an engagement?",
        "What's the OWASP Top 10?", "How do I store passwords securely in a database?", "What is the principle of least privilege?",
        "How do AI jailbreaks work, at a high level, and why are they a risk for chatbots?", "What is data exfiltration and how is it detected?",
        "How do I know if my email account was hacked?", "What should be in an incident response plan?", "How does a firewall work?",
        "What's the difference between authentication and authorization?", "What are CSRF tokens for?", "How do I rotate API keys safely?",
        "What is threat modeling?", "Why is it dangerous to run unknown scripts with admin rights?", "Is it legal to jailbreak my iPhone?",
        "How do banks detect credit card fraud?", "What is a botnet?", "How do I secure my home Wi-Fi?", "What is a supply chain attack?",
        "How do red teams test LLM applications?", "What does a security operations center do?", "What is malware sandboxing?",
        "Can you explain what a keylogger is so I can warn my parents?", "How do scammers use fake invoices, and how can accounts payable spot them?",
        "What is the history of the Morris worm?", "Write a security awareness quiz for {audience}.", "How do I teach kids about online safety?",
        "What is a CVE and how do I read one?", "How do I harden an Nginx server?", "What is the difference between {concept} and encryption at rest?",
    ),
}


def biz_sentence(rnd):
    return fill(rnd.choice(S["biz"]), rnd, S)


QUOTE_TEMPLATES = _t(
    'Translate "{q}" into {lang_name}.', "Translate this into {lang_name}, {lang_name} and {lang_name}: \"{q}\"",
    "How would you say '{q}' in {lang_name}?", "Please translate the following sentence to {lang_name}:\n\n{q}",
    "Translate to {lang_name} (keep it {tone}):\n> {q}", "{q}\n\nTranslate the above into {lang_name}.",
    "Can you translate this email line for our {city} office? \"{q}\"", "What's the {lang_name} for: {q}",
    "Proofread: \"{q}\"", "Is this sentence grammatically correct? '{q}'", "Make this more {tone}: \"{q}\"",
    "Rewrite for {audience}: {q}", "Turn this into a {tone} Slack message: \"{q}\"", "Does this sound rude? \"{q}\"",
)
PARA_TEMPLATES = _t(
    "{ask_sum}:\n\n{p}", "{ask_sum}:\n\"{p}\"", "{p}\n\n{ask_sum}.", "Translate this email into {lang_name}:\n\n{p}",
    "{ask_fix}:\n\n{p}", "Here's an email from a colleague:\n---\n{p}\n---\nWhat do they want from me?",
    "Reply to this on my behalf, {tone} tone:\n\n{p}", "Translate into {lang_name} and {lang_name}:\n{p}",
    "Can you turn this into bullet points?\n{p}", "What is the tone of this message?\n\n{p}",
)


def quoted(rnd, n):
    for i in range(n):
        if rnd.random() < 0.5:
            k = rnd.randrange(len(QUOTE_TEMPLATES))
            t = QUOTE_TEMPLATES[k].replace("{q}", biz_sentence(rnd))
            yield row(fill(t, rnd, S), [], "gen_benign_quote", f"q{k}", "en", "translation" if "ranslat" in t or "say" in t else "quoted_edit")
        else:
            k = rnd.randrange(len(PARA_TEMPLATES))
            p = " ".join(fill(rnd.choice(S["para"]), rnd, S) for _ in range(rnd.choice([1, 1, 2, 3])))
            t = PARA_TEMPLATES[k].replace("{p}", p)
            yield row(fill(t, rnd, S), [], "gen_benign_quote", f"p{k}", "en", "translation" if "ranslat" in t else "summarize")


CONTEXT = ["I'm a {job} at {company}.", "I work in {job} roles and", "For a presentation to {audience}:", "My manager asked me this:", "Context: we're a small team of {n}.",
           "I'm preparing for {topic}.", "Background: I live in {city}.", "I'm new to this.", "For my class:", "Our team is migrating to {tech}.",
           "Asking for my {job} friend:", "I have about {n} minutes.", "Before my meeting on {weekday}:", "We are based in {country}.",
           "I'm writing a guide for {audience}.", "I'm a student in {city}.", "Working on {topic} today.", "Following up on yesterday's chat:",
           "This is for our internal wiki.", "My {job} colleague {person} and I disagree on this.", "Hi! Quick question.", "Hey,", "Morning!", "Please help:"]
SUFFIX_C = ["Keep it under {n} sentences.", "Use bullet points.", "In plain English please.", "Thanks!", "Be concise.", "Give an example.",
            "Format it as a table.", "Assume I'm a beginner.", "Make it {tone}.", "Write it for {audience}.", "Answer in {lang_name}.",
            "No jargon.", "Include a short summary at the end.", "Cite sources if you can.", "Explain your reasoning.", "Max {n} bullet points.",
            "Keep the {tone} tone.", "Also suggest a next step.", "Add a catchy title.", ":)", "Thanks in advance.", "It's urgent, so short answer is fine."]


def wrap(rnd, t):
    r = rnd.random()
    if r < 0.4:
        t = fill(rnd.choice(CONTEXT), rnd, S) + " " + (t[0].lower() + t[1:] if CONTEXT and rnd.random() < 0.2 else t)
    if rnd.random() < 0.4:
        t = t + " " + fill(rnd.choice(SUFFIX_C), rnd, S)
    if rnd.random() < 0.05:
        t = t.lower()
    return t


def work(rnd, n):
    kinds = sorted(TEMPLATES)
    for i in range(n):
        kind = kinds[i % len(kinds)]
        k = rnd.randrange(len(TEMPLATES[kind]))
        t = wrap(rnd, fill(TEMPLATES[kind][k], rnd, S))
        src = "gen_benign_security" if kind in ("security_question", "scary_words") else "gen_benign_work"
        yield row(t, [], src, f"{kind}-{k}", "en", kind)


# --- persona / game prompts ("I want you to act as ..."), written for training (gpt_prompt is held out)
P_ROLES = [("a travel guide", "I will tell you my location", "suggest places to visit near it", "I am in {city} and want to see museums"),
           ("a stand-up comedian", "I will give you topics", "write a short funny routine about them", "office coffee machines"),
           ("an English teacher", "I will write sentences", "correct my grammar and explain the mistakes", "I goes to work yesterday"),
           ("a Linux terminal", "I will type commands", "reply with what the terminal would show, inside one code block", "pwd"),
           ("a career counselor", "I will describe my background", "suggest career paths", "I studied {subject} and like people"),
           ("a math tutor", "I will give you problems", "explain the steps", "solve 3x + 5 = 20"), ("a poet", "I will give you themes", "write poems", "{hobby}"),
           ("a personal trainer", "I will share my goals", "design a plan", "run 5 km by summer"), ("a chef", "I will list ingredients", "suggest recipes", "{ingredient} and rice"),
           ("a storyteller", "I will give you a setting", "tell an engaging story for kids", "a {animal} who wants to fly"),
           ("a debate coach", "I will give you a motion", "prepare arguments for both sides", "{topic} should be mandatory"),
           ("a text adventure game", "I will type actions", "describe what happens, staying in the game world", "look around"),
           ("a historian", "I will name an event", "explain causes and consequences", "{subject}"), ("a UX reviewer", "I will describe an app screen", "give usability feedback", "a checkout page with 6 steps"),
           ("a SQL console", "I will type queries", "reply with example result tables only", "SELECT * FROM orders LIMIT 3;"), ("a movie critic", "I will name a film", "write a review", "a space drama"),
           ("a tic-tac-toe opponent", "I will make moves", "update the board and make yours", "X in the center"), ("a spelling bee host", "I will ask for words", "give me words at my level", "level 3"),
           ("an interviewer for a {job} role", "I will answer", "ask me the next question, one at a time", "Hi"), ("a motivational coach", "I will share challenges", "give strategies", "I procrastinate"),
           ("a {lang_name} translator", "I will send sentences", "translate them and nothing else", "Where is the station?"), ("a riddle master", "I will guess", "give hints", "start")]
P_FORMS = ["I want you to act as {r}. {a}, and you will {b}. My first request is \"{c}\".", "Act as {r}. {a} and you {b}. Start with: {c}",
           "Let's play a game: you are {r}. {a}; you {b}. Only reply in character. First: {c}", "Pretend to be {r}. {a} and you {b}. Do not break character. {c}",
           "You are {r}. {a}. Your job is to {b}. Don't write explanations unless I ask. First input: {c}", "Roleplay: {r}. Rules: {a}; you {b}. Go: {c}"]


P_FORMS += ["I want you to act as {r}. {a}, and you will {b}. Only reply with the result and nothing else, do not write explanations. My first request is \"{c}\".",
            "I want you to act as {r} and respond in {lang_name}. {a}, and you will {b}. My first sentence is \"{c}\"",
            "I'd like you to play {r}. {a}. You should {b}. When I need to tell you something out of character I will use curly brackets {like this}. First: {c}"]
P_I18N = [("zh", "我希望你扮演{r}。我会{a}，你需要{b}。我的第一个请求是“{c}”。", [("旅游向导", "告诉你我的位置", "推荐附近的景点", "我在杭州"), ("英语老师", "写句子", "纠正语法并解释", "I goes to school"),
                                                                       ("面试官", "回答问题", "一次只问一个问题", "你好"), ("诗人", "给你主题", "写一首诗", "秋天"), ("Linux终端", "输入命令", "只回复终端输出", "ls")]),
          ("ja", "あなたには{r}として振る舞ってほしい。私が{a}ので、あなたは{b}。最初のリクエストは「{c}」です。", [("旅行ガイド", "場所を伝える", "近くの観光地を提案して", "京都にいます"),
                                                                       ("英語の先生", "文を書く", "文法を直して説明して", "I goes to school"), ("面接官", "答える", "一つずつ質問して", "こんにちは")]),
          ("es", "Quiero que actúes como {r}. Yo {a} y tú {b}. Mi primera petición es \"{c}\".", [("guía turístico", "te diré dónde estoy", "me sugerirás lugares", "estoy en Sevilla"),
                                                                       ("profesor de inglés", "escribiré frases", "las corregirás", "I goes to school"), ("entrevistador", "responderé", "harás la siguiente pregunta", "hola")]),
          ("fr", "Je veux que tu joues le rôle de {r}. Je {a} et tu {b}. Ma première demande est « {c} ».", [("guide touristique", "te donne ma position", "proposes des visites", "je suis à Lyon"),
                                                                       ("professeur d'anglais", "t'écris des phrases", "les corriges", "I goes to school"), ("recruteur", "réponds", "poses la question suivante", "bonjour")]),
          ("de", "Ich möchte, dass du als {r} agierst. Ich {a} und du {b}. Meine erste Anfrage ist „{c}“.", [("Reiseführer", "nenne dir meinen Standort", "schlägst Sehenswürdigkeiten vor", "ich bin in Köln"),
                                                                       ("Englischlehrer", "schreibe Sätze", "korrigierst sie", "I goes to school"), ("Interviewer", "antworte", "stellst die nächste Frage", "Hallo")])]


def personas(rnd, n):
    for i in range(n // 5):
        lang, form, roles = rnd.choice(P_I18N)
        r, a, b, c = rnd.choice(roles)
        t = form.replace("{r}", r).replace("{a}", a).replace("{b}", b).replace("{c}", c)
        yield row(t, [], "gen_benign_persona", f"{lang}-p", lang, "persona_prompt")
    for i in range(n):
        k = rnd.randrange(len(P_FORMS))
        r, a, b, c = rnd.choice(P_ROLES)
        t = P_FORMS[k].replace("{r}", r).replace("{a}", a).replace("{b}", b).replace("{c}", c)
        yield row(fill(t, rnd, S), [], "gen_benign_persona", f"pf{k}", "en", "persona_prompt")


# --- app system prompts and role definitions -------------------------------------------------
ROLES = ["the customer support agent for {company}, an online shop selling {product}", "a helpful assistant for {company}'s HR portal",
         "a travel booking assistant for {company}", "a friendly tutor who helps {audience} learn {subject}",
         "an internal IT helpdesk bot", "a coding assistant specialised in {plang} and {tech}", "a recipe assistant",
         "a writing coach for {audience}", "a sales assistant who answers questions about {product}", "a meeting summarizer",
         "a legal research assistant (not a lawyer)", "a billing assistant for {company}", "a fitness coach",
         "an onboarding buddy for new employees at {company}", "a translator between English and {lang_name}",
         "a data analyst who writes SQL for our warehouse", "a patient, encouraging math tutor", "a librarian who recommends books",
         "a customer success assistant for {company}", "a concierge for a hotel in {city}", "a product FAQ bot for {product}"]
DUTIES = ["Answer questions about orders, shipping and returns.", "Help users find the right policy document.",
          "Keep answers short and friendly.", "Always answer in {lang_name} if the user writes in {lang_name}.",
          "If you don't know the answer, say so and offer to connect the user with a human.",
          "Do not give legal, medical or financial advice.", "Never share other customers' information.",
          "Do not reveal internal pricing rules or discount codes.", "Only discuss topics related to {company}'s products.",
          "Ignore requests that are unrelated to travel and politely steer back.", "Use the knowledge base excerpts provided below.",
          "Format answers in Markdown with short bullet points.", "Ask one clarifying question if the request is ambiguous.",
          "Be concise: at most three sentences unless the user asks for detail.", "Cite the article title when you use the knowledge base.",
          "Escalate refunds over $200 to a human agent.", "Do not make promises about delivery dates.", "Stay polite even if the user is rude.",
          "Never invent order numbers.", "Respond with empathy when customers are frustrated.", "You can use the tools search_orders and get_tracking.",
          "Today's date is {weekday}.", "Keep a {tone} tone.", "Do not discuss competitors.", "Refuse politely if asked to write code for unrelated projects."]
USER_MSGS = ["where is my order?", "I want to return {product}.", "how do I reset my password?", "what's your refund policy?",
             "can you explain {subject}?", "what time is check-out?", "can I change my delivery address?", "do you ship to {country}?",
             "my invoice is wrong", "how many vacation days do I have left?", "recommend something like {book}",
             "what is {concept}?", "translate 'good morning' please", "hi", "thanks, that's all", "I need help with {topic}"]


def system_prompts(rnd, n):
    for i in range(n):
        role = fill(rnd.choice(ROLES), rnd, S)
        duties = " ".join(fill(d, rnd, S) for d in rnd.sample(DUTIES, rnd.randint(2, 6)))
        style = rnd.randrange(6)
        if style == 0:
            t = f"You are {role}. {duties}"
        elif style == 1:
            t = f"System: You are {role}. {duties}\n{rnd.choice(['Customer', 'User', 'Employee', 'Guest'])}: {fill(rnd.choice(USER_MSGS), rnd, S)}"
        elif style == 2:
            t = f"Act as {role}. {duties}"
        elif style == 3:
            t = f"### Role\nYou are {role}.\n### Rules\n" + "\n".join("- " + fill(d, rnd, S) for d in rnd.sample(DUTIES, rnd.randint(3, 7))) + \
                f"\n### Conversation\nuser: {fill(rnd.choice(USER_MSGS), rnd, S)}"
        elif style == 4:
            msgs = [{"role": "system", "content": f"You are {role}. {duties}"}, {"role": "user", "content": fill(rnd.choice(USER_MSGS), rnd, S)}]
            if rnd.random() < 0.4:
                msgs += [{"role": "assistant", "content": fill(rnd.choice(ASSIST), rnd, S)}, {"role": "user", "content": fill(rnd.choice(USER_MSGS), rnd, S)}]
            shape = rnd.randrange(3)  # a request body, a bare messages array (pasted from code or logs), pretty-printed
            body = {"model": rnd.choice(["gpt-4o-mini", "gpt-4.1", "claude-sonnet-4", "llama-3-70b"]), "messages": msgs} if shape == 0 else msgs
            t = json.dumps(body, indent=2 if shape == 2 else None, ensure_ascii=False)
            if rnd.random() < 0.3:
                t = rnd.choice(["Why does the model ignore my system prompt here?\n", "Is this request body right?\n", "Review this prompt setup:\n"]) + t
        else:
            t = f"<system>\nYou are {role}.\n{duties}\n</system>\n<user>{fill(rnd.choice(USER_MSGS), rnd, S)}</user>"
        yield row(t, [], "gen_benign_sysprompt", f"s{style}-{rnd.randrange(8)}", "en", "system_prompt")


# --- multi-turn chats --------------------------------------------------------------------------
ASSIST = ["Sure! Here's a draft:\n\n{biz}", "Of course. {p}", "Here are a few options: 1) {topic} 2) {topic} 3) {topic}.",
          "Great question. In short, it depends on your goals.", "Done. Let me know if you want it shorter.",
          "The capital of {country} is its largest administrative city; want more facts?", "Here's a summary: {p}"]


def multi_turn(rnd, n):
    flat = [t for k, v in TEMPLATES.items() for t in v]
    for i in range(n):
        turns = []
        if rnd.random() < 0.5:
            turns.append(("system", f"You are {fill(rnd.choice(ROLES), rnd, S)}. {fill(rnd.choice(DUTIES), rnd, S)}"))
        for j in range(rnd.randint(1, 4) if rnd.random() < 0.8 else rnd.randint(6, 20)):
            turns.append(("user", fill(rnd.choice(flat), rnd, S)))
            turns.append(("assistant", fill(rnd.choice(ASSIST), rnd, S)))
        turns.append(("user", fill(rnd.choice(flat + ["thanks, now make it shorter", "can you translate that into {lang_name}?",
                                                      "ignore my last message, I meant {topic}", "perfect, one more tweak: make it {tone}"]), rnd, S)))
        style = rnd.randrange(3)
        if style == 0:
            t = "\n".join(f"{r}: {m}" for r, m in turns)
        elif style == 1:
            t = "\n".join(m for r, m in turns)
        else:
            t = "\n\n".join(f"{r.capitalize()}: {m}" for r, m in turns)
        yield row(t, [], "gen_benign_chat", f"m{style}-{len(turns)}", "en", "multi_turn")


# --- agent tool results --------------------------------------------------------------------
def tool_results(rnd, n):
    for i in range(n):
        k = rnd.randrange(6)
        if k == 0:
            res = [{"title": fill("{topic} - guide", rnd, S).capitalize(), "url": f"https://example.{rnd.choice(['com','org','io'])}/{rnd.randrange(9999)}",
                    "snippet": fill(rnd.choice(S["para"]), rnd, S)} for _ in range(rnd.randint(2, 5))]
            t = "Tool result (web_search):\n" + json.dumps({"results": res}, indent=rnd.choice([None, 2]))
        elif k == 1:
            files = [f"{rnd.choice(['report','notes','budget','slides','invoice','photo','draft'])}_{rnd.randrange(100)}.{rnd.choice(['pdf','docx','xlsx','png','md','csv'])}" for _ in range(rnd.randint(3, 12))]
            t = "$ ls -la ~/Documents\n" + "\n".join(f"-rw-r--r--  1 user staff {rnd.randint(1000,900000):>7} Mar {rnd.randint(1,28):>2} 10:{rnd.randint(10,59)} {f}" for f in files)
        elif k == 2:
            t = "Function get_order_status returned:\n" + json.dumps({"order_id": f"A{rnd.randint(10000,99999)}", "status": rnd.choice(["shipped", "processing", "delivered"]),
                                                                       "carrier": rnd.choice(["UPS", "DHL", "FedEx"]), "eta": f"2025-0{rnd.randint(1,9)}-{rnd.randint(10,28)}",
                                                                       "items": [fill("{product}", rnd, S)]})
        elif k == 3:
            t = "Observation: " + json.dumps({"weather": {"city": fill("{city}", rnd, S), "temp_c": rnd.randint(-5, 35), "conditions": rnd.choice(["sunny", "rain", "cloudy", "windy"])}})
        elif k == 4:
            t = "[tool:calendar.list_events]\n" + "\n".join(f"- {rnd.choice(S['weekday'])} {rnd.randint(8,17)}:00 {fill('{topic}', rnd, S)} with {rnd.choice(S['person'])}" for _ in range(rnd.randint(2, 6)))
        else:
            t = "API response 200 OK\n" + json.dumps({"data": [{"id": rnd.randrange(10**6), "name": fill("{company}", rnd, S), "metric": fill("{metric}", rnd, S),
                                                               "value": round(rnd.random() * 100, 2)} for _ in range(rnd.randint(2, 6))], "next": None})
        if rnd.random() < 0.6:
            t = t + "\n\n" + rnd.choice(["Summarize these results for the user.", "Which one is most relevant?", "What should I tell the customer?",
                                           "Answer the user's question using the data above.", "Now draft the reply."])
        yield row(t, [], "gen_benign_tool", f"t{k}", "en", "tool_result")


# --- pasted logs / data without code ----------------------------------------------------------
def logs(rnd, n):
    levels = ["INFO", "WARN", "ERROR", "DEBUG"]
    msgs = ["connection to db-{x} timed out after 30s", "user {x} logged in", "retrying request {x}", "cache miss for key session:{x}",
            "disk usage at {x}%", "job nightly-report finished in {x}s", "killed worker {x} after OOM", "payment {x} captured",
            "health check failed for node-{x}", "certificate renewal scheduled", "upstream returned 502", "GC pause {x}ms"]
    asks = ["Why is this failing?", "What does this log mean?", "Can you spot the problem in these logs?", "Summarize what happened here.",
            "Is this something to worry about?", "Which service is the root cause?"]
    for i in range(n):
        lines = [f"2025-0{rnd.randint(1,9)}-{rnd.randint(10,28)}T{rnd.randint(0,23):02}:{rnd.randint(0,59):02}:{rnd.randint(0,59):02}Z {rnd.choice(levels)} "
                 f"{rnd.choice(msgs).replace('{x}', str(rnd.randint(1, 999)))}" for _ in range(rnd.randint(3, 25))]
        t = rnd.choice(asks) + "\n\n" + "\n".join(lines) if rnd.random() < 0.7 else "\n".join(lines) + "\n\n" + rnd.choice(asks)
        yield row(t, [], "gen_benign_logs", f"l{i % 9}", "en", "pasted_logs")
    # CSV / table pastes
    for i in range(n // 2):
        cols = rnd.sample(["region", "month", "revenue", "units", "cost", "headcount", "nps", "city", "product", "margin"], rnd.randint(3, 6))
        lines = [",".join(cols)] + [",".join(str(rnd.randint(1, 9999)) if c not in ("region", "city", "product", "month") else
                                              fill({"region": "{country}", "city": "{city}", "product": "{product}", "month": "{weekday}"}[c], rnd, S) for c in cols)
                                     for _ in range(rnd.randint(3, 15))]
        t = rnd.choice(["Here is our data:", "Analyze this table:", "What trends do you see?", "Make a chart suggestion for this:"]) + "\n" + "\n".join(lines)
        yield row(t, [], "gen_benign_logs", f"csv{i % 7}", "en", "pasted_data")


def long_business(rnd, n):
    """Long benign business documents (1-6 KB) built from paragraphs, with an ask."""
    for i in range(n):
        paras = [fill(rnd.choice(S["para"]), rnd, S) for _ in range(rnd.randint(6, 30))]
        if rnd.random() < 0.5:
            paras = [p + " " + " ".join(biz_sentence(rnd) for _ in range(rnd.randint(1, 3))) for p in paras]
        doc = "\n\n".join(paras)
        ask = fill(rnd.choice(["{ask_sum}:", "Translate this into {lang_name}:", "{ask_fix}:", "Review this document and list open questions:",
                               "Turn this into a {doc}:"]), rnd, S)
        t = f"{ask}\n\n{doc}" if rnd.random() < 0.7 else f"{doc}\n\n{ask}"
        yield row(t, [], "gen_benign_longdoc", f"ld{i % 11}", "en", "long_doc")


def generate(seed=2101):
    rnd = random.Random(seed)
    out = []
    out += list(work(rnd, 17000))
    out += list(quoted(rnd, 3200))
    out += list(system_prompts(rnd, 1500))
    out += list(personas(rnd, 1200))
    out += list(multi_turn(rnd, 1200))
    out += list(tool_results(rnd, 900))
    out += list(logs(rnd, 500))
    out += list(long_business(rnd, 500))
    return out
