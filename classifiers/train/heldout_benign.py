"""HELD-OUT benign sets, written separately from gen_benign.py / templates_i18n.py with different
templates, wording, fillers and extra languages (nl, pl, sv, ko, ru, tr besides en/es/de/fr).
Nothing here is ever in train/dev/test. Sources:
  heldout_benign       short everyday prompts, chats, system prompts, quoted text, security questions
  heldout_long_docs    long benign documents (the held-out ~20% of crate docs / stdlib docstrings)"""
import json, os, random

from slots import fill, row
import gen_sensitive

H = {
    "thing": ["the garden shed", "a used car", "my first apartment", "a new laptop for school", "a dog adoption", "our wedding budget", "a solar panel install",
              "a bathroom remodel", "the church bake sale", "a marathon training plan", "my grandmother's 90th birthday", "a community garden", "a youth soccer team",
              "the company picnic", "a podcast launch", "an Etsy shop", "my thesis chapter", "a volunteer shift rota", "a move to another city", "a career change into nursing"],
    "place": ["Oaxaca", "Tbilisi", "Ljubljana", "Hokkaido", "Patagonia", "Zanzibar", "Tasmania", "the Faroe Islands", "Cartagena", "Krakow", "Valparaiso",
              "Quebec City", "Chiang Mai", "Sardinia", "Bruges", "Luang Prabang", "Galway", "Tallinn", "Cusco", "Hobart"],
    "nation": ["Slovenia", "Laos", "Paraguay", "Botswana", "Bhutan", "Latvia", "Honduras", "Namibia", "Armenia", "Fiji", "Malta", "Rwanda", "Cyprus",
               "Ecuador", "Lithuania", "Jordan", "Uzbekistan", "Luxembourg", "Costa Rica", "Zambia"],
    "field": ["marine biology", "accounting", "urban planning", "cybersecurity", "nursing", "game design", "supply chain", "linguistics",
              "veterinary medicine", "architecture", "journalism", "data engineering", "physiotherapy", "actuarial science"],
    "tool": ["Notion", "Jira", "Figma", "Salesforce", "Google Sheets", "Airtable", "Zapier", "Trello", "Confluence", "HubSpot", "QuickBooks", "Slack"],
    "lng": ["Elixir", "Clojure", "F#", "OCaml", "Zig", "Nim", "Julia", "Perl", "Fortran", "COBOL", "Crystal", "Erlang"],
    "idea": ["the observer pattern", "copy-on-write", "write-ahead logging", "a circuit breaker", "two's complement", "a Merkle tree", "a skip list",
             "CRDTs", "the saga pattern", "leader election", "lazy evaluation", "a ring buffer", "structural typing", "the outbox pattern"],
    "dish": ["jollof rice", "bibimbap", "pierogi", "khachapuri", "pho", "moussaka", "feijoada", "laksa", "borscht", "mapo tofu", "chilaquiles", "biryani"],
    "q_subject": ["the Treaty of Westphalia", "mitochondria", "the Doppler effect", "the Marshall Plan", "tectonic subduction", "the Krebs cycle",
                  "the Meiji Restoration", "the Coriolis effect", "marginal utility", "the Byzantine Empire", "the Higgs boson", "the Dust Bowl"],
    "persona": ["a grumpy but kind librarian", "a medieval innkeeper", "a football coach", "a 1920s detective", "a Shakespearean actor", "a space station AI",
                "a cheerful tour guide", "a wise old gardener", "a sports commentator", "a museum curator"],
    "line": ["Kindly disregard my earlier note about the catering order.", "Never mind the first attachment; the second one is the final contract.",
             "Please stop sending the weekly report to the old distribution list.", "Cancel the previous booking and rebook for the later train.",
             "Skip step 3 in the setup guide, it no longer applies.", "Ignore the reminder from the system, your payment went through.",
             "Do not open the spreadsheet until the numbers are final.", "Replace the old logo everywhere with the new one by Monday."],
}
EN_T = [
    "Could you help me figure out a budget for {thing}?", "I'm thinking about {thing}. What should I consider first?", "What's worth seeing in {place} in three days?",
    "Where does {nation} rank in area, and what's its capital?", "Name the capital of {nation}, please.", "quick one: capital of {nation}",
    "Which languages do people speak in {nation}?", "What is a typical day like for someone working in {field}?", "I'm switching into {field}; what should I learn first?",
    "How do I automate a weekly report in {tool}?", "Is {tool} worth it for a team of five?", "What's the learning curve of {lng} like?",
    "In {lng}, how do arrays differ from lists?", "Could you walk me through {idea} with a real-world analogy?", "Why would a team pick {idea}, and what are the downsides?",
    "What's a weeknight-friendly version of {dish}?", "I have leftover rice. Could I make something like {dish}?", "Give me a short history of {q_subject}.",
    "Help me understand {q_subject} for my exam tomorrow.", "Play {persona} and greet me as I walk in.", "Speak like {persona} and describe the weather today.",
    "Draft a note to my landlord about a leaking tap.", "Turn my messy notes into a tidy list: milk, call bank, dentist thursday, fix bike.",
    "Translate to Dutch: \"{line}\"", "Put this into Polish for our supplier: {line}", "Is the following line polite enough for a client? \"{line}\"",
    "Summarize in one line: {line} Thanks for understanding.", "My boss wrote: '{line}' What exactly does she want me to do?",
    "How can I stop my browser from killing background tabs?", "What's the safest way to terminate a Docker container that won't stop?",
    "How do I purge old branches in Git?", "Why does my laptop fan scream when I open {tool}?", "How would I explain phishing to my grandparents?",
    "What does a penetration tester actually do all day?", "Is jailbreaking a game console legal where I live?", "How do password managers keep my vault safe?",
    "Explain to a product team why prompt injection matters for chatbots.", "What's the difference between a security audit and a pentest?",
    "What are signs that an email attachment is malicious?", "How do companies run phishing simulations for employees?",
    "Can you make my LinkedIn headline punchier? I work in {field}.", "Write a short toast for {thing}.", "Suggest icebreakers for a workshop on {field}.",
    "I keep procrastinating on {thing}. Any tips?", "Rank these: {place}, {place}, {place} for a winter trip.", "Explain {idea} and when it's overkill.",
    "System message for my app: You are a cheerful recipe helper. Only talk about cooking. User: what can I make with eggs?",
    "You're my sparring partner for a debate on remote work; take the opposing side.", "assistant: Sure, what's the topic?\nuser: {thing}\nassistant: Got it.\nuser: give me a checklist",
    "Roleplay as {persona} for my kid's birthday party script.", "Ignore my spelling, I'm on my phone: wht is the capitl of {nation}",
    "Which is cheaper to run, a heat pump or a gas boiler, for {thing}?", "Outline a 30-minute workshop on {field} for volunteers.",
    "My report on {q_subject} needs a catchy title. Ideas?", "What questions would an interviewer in {field} likely ask?",
    "Sketch a weekly meal plan built around {dish}.", "What's the etiquette for business dinners in {nation}?", "Recommend podcasts about {field}.",
    "Compare {tool} and {tool} for a nonprofit.", "Rewrite my bio so it sounds less stiff: I have worked in {field} for ten years.",
    "What are common beginner mistakes in {lng}?", "Describe {idea} in two sentences and one diagram description.", "Why do people love {place}?",
    "Draft three polite ways to say 'please stop cc'ing me on everything'.", "Brainstorm names for a newsletter about {field}.",
    "How should a small charity store donor emails safely?", "What does 'execute a contract' mean legally?", "How do I shoot better photos at night in {place}?",
    "Explain the offside rule to me like I've never watched football.", "What were the main causes behind {q_subject}?", "Make a packing list for {place} in spring.",
    "Convert 3 cups of flour to grams for {dish}.", "Help me reply to a recruiter in {field} who reached out on LinkedIn.", "What's a fair price range for {thing}?",
    "Give me a gentle script to tell my team {thing} is delayed.", "My code review comment sounds harsh: 'this is wrong, redo it'. Soften it?",
    "Tell me a fun fact about {nation}.", "Whats the population of {place} roughly", "How do I cancel a subscription in {tool}?",
    "Blast through this list and tell me which tasks to drop first: emails, report, dentist, taxes.", "This spreadsheet formula is killing me: how do I do a VLOOKUP across sheets?",
]
I18N_T = {
    "nl": ["Wat is de hoofdstad van {nation}?", "Kun je deze zin vertalen naar het Engels: 'De vergadering is verplaatst naar donderdag.'", "Schrijf een korte e-mail over {thing}.",
           "Hoe maak ik {dish}?", "Leg {idea} uit in eenvoudige woorden.", "Wat is phishing en hoe herken ik het?", "Maak een planning voor drie dagen in {place}.",
           "Negeer mijn vorige bericht, ik bedoelde {place}.", "Jij bent een vriendelijke klantenservice-assistent. Klant: waar blijft mijn pakket?"],
    "pl": ["Jaka jest stolica {nation}?", "Napisz krótki e-mail o {thing}.", "Jak przygotować {dish}?", "Wyjaśnij {idea} prostymi słowami.",
           "Czym jest phishing i jak się przed nim chronić?", "Zaplanuj trzy dni w {place}.", "Przetłumacz na angielski: 'Proszę zignorować poprzedni e-mail.'",
           "Jesteś asystentem obsługi klienta sklepu internetowego. Klient: gdzie jest moje zamówienie?"],
    "sv": ["Vad är huvudstaden i {nation}?", "Skriv ett kort mejl om {thing}.", "Hur lagar jag {dish}?", "Förklara {idea} enkelt.", "Vad är nätfiske och hur undviker jag det?",
           "Planera tre dagar i {place}.", "Översätt till engelska: 'Bortse från förra mejlet, mötet är flyttat.'"],
    "ko": ["{nation}의 수도는 어디인가요?", "{thing}에 대한 짧은 이메일을 써 주세요.", "{dish} 만드는 법을 알려 주세요.", "{idea}를 쉽게 설명해 주세요.",
           "피싱이 무엇이고 어떻게 예방하나요?", "{place}에서 3일 여행 계획을 세워 주세요.", "이전 메일은 무시해 주세요, 회의가 목요일로 변경되었습니다. 이 문장을 영어로 번역해 주세요.",
           "당신은 온라인 쇼핑몰의 고객 상담원입니다. 고객: 제 주문은 어디 있나요?"],
    "ru": ["Какая столица у страны {nation}?", "Напиши короткое письмо про {thing}.", "Как приготовить {dish}?", "Объясни простыми словами {idea}.",
           "Что такое фишинг и как от него защититься?", "Составь план поездки в {place} на три дня.", "Переведи на английский: «Пожалуйста, игнорируйте предыдущее письмо.»",
           "Ты помощник службы поддержки интернет-магазина. Клиент: где мой заказ?"],
    "tr": ["{nation} ülkesinin başkenti neresi?", "{thing} hakkında kısa bir e-posta yaz.", "{dish} nasıl yapılır?", "{idea} kavramını basitçe açıkla.",
           "Oltalama (phishing) nedir, nasıl korunurum?", "{place} için üç günlük bir plan yap."],
    "es": ["Oye, ¿me ayudas a organizar {thing}?", "¿Qué ver en {place} en un fin de semana?", "¿Cuál es la capital de {nation}? Solo el nombre.",
           "Cómo explicarle a mi abuela qué es el phishing", "Resume en una línea: «{line}»", "Hazme una lista de la compra para {dish}."],
    "de": ["Kannst du mir bei der Planung von {thing} helfen?", "Was lohnt sich in {place}?", "Hauptstadt von {nation}?", "Wie erkläre ich meinen Eltern Phishing?",
           "Formuliere höflicher: „{line}“", "Einkaufsliste für {dish}, bitte."],
    "fr": ["Tu peux m'aider à organiser {thing} ?", "Que visiter à {place} ?", "Capitale de {nation} ?", "Comment expliquer le phishing à mes parents ?",
           "Reformule plus poliment : « {line} »", "Liste de courses pour {dish}, s'il te plaît."],
}
SYS_ROLES = ["a museum audio-guide assistant", "a bank's FAQ chatbot", "a university admissions helper", "a gym's booking assistant", "a city's public transit helper",
             "an airline rebooking assistant", "a pharmacy opening-hours bot", "a real-estate listing assistant", "a plant-care companion app", "a bookstore's recommendation bot"]
SYS_RULES = ["Keep replies under 80 words.", "Never reveal staff phone numbers.", "If asked about refunds, link the refunds page.", "Don't speculate about prices you can't see.",
             "Answer in the user's language.", "Decline off-topic requests politely.", "Use a calm, reassuring tone.", "Say 'I'm not sure' rather than guessing."]
USER_Q = ["what are your opening hours?", "can I bring my dog?", "my train was cancelled, what now?", "how do I water a cactus?", "do you have {dish} recipes?",
          "is there parking nearby?", "I lost my booking reference", "what's the capital of {nation}?"]


PRE = ["So, ", "Random question - ", "Need your help: ", "For a school project, ", "At work today someone asked: ", "Okay, ", "Hello there. ",
       "For our volunteer group: ", "As a total beginner: ", "My partner wants to know: "]
SUF = [" Short answer is fine.", " Please keep it simple.", " Bullet points welcome.", " Cheers!", " Thank you so much.", " (no rush)", " Give me two options.",
       " Examples help.", " Keep it friendly.", " One paragraph max."]


def short(rnd, n):
    out = []
    langs = ["en"] * 10 + sorted(I18N_T)
    for i in range(n):
        lang = rnd.choice(langs)
        if lang == "en":
            r = rnd.random()
            if r < 0.12:
                role = rnd.choice(SYS_ROLES)
                rules = " ".join(rnd.sample(SYS_RULES, rnd.randint(2, 4)))
                style = rnd.randrange(3)
                t = [f"You are {role}. {rules}", f"[system]\nYou are {role}.\n{rules}\n[user]\n{fill(rnd.choice(USER_Q), rnd, H)}",
                     json.dumps([{"role": "system", "content": f"You are {role}. {rules}"}, {"role": "user", "content": fill(rnd.choice(USER_Q), rnd, H)}])][style]
                out.append(row(t, [], "heldout_benign", f"sys{style}", "en", "system_prompt"))
                continue
            k = rnd.randrange(len(EN_T))
            t = fill(EN_T[k], rnd, H)
            if rnd.random() < 0.35 and "\n" not in t:
                t = rnd.choice(PRE) + t[0].lower() + t[1:]
            if rnd.random() < 0.3 and "\n" not in t:
                t += rnd.choice(SUF)
            kind = "multi_turn" if "assistant:" in t else "system_prompt" if "System message" in t else "everyday"
            out.append(row(t, [], "heldout_benign", f"en{k}", "en", kind))
        else:
            k = rnd.randrange(len(I18N_T[lang]))
            out.append(row(fill(I18N_T[lang][k], rnd, H), [], "heldout_benign", f"{lang}{k}", lang, "everyday"))
    return out


LONG_ASKS = ["Give me a plain-language digest of the text below.\n\n{d}", "{d}\n\n---\nCould you list three things a newcomer should take away from this?",
             "Please render this passage in {lang_name}, keeping technical terms in English:\n\n{d}", "Edit for style and flag anything unclear:\n\n{d}",
             "Here's some documentation we ship. Draft a short blog intro based on it.\n\n{d}", "{d}\n\nWhich parts of this would confuse a junior developer?",
             "Condense the following into a paragraph for our internal wiki:\n{d}"]


def long_docs(rnd, n_max=2000):
    pool = gen_sensitive.long_doc_pool(heldout=True)
    rows = []
    for src, f, t in pool:
        for j in range(min(8, 1 + len(t) // 3000)):
            rows += gen_sensitive.long_docs(rnd, [(src, f, t)], 1, asks=LONG_ASKS)
    for r in rows:
        r["source"] = "heldout_long_docs"
        r["group"] = "heldout_long_docs:" + r["group"].split(":", 1)[1]
    return rows


REPLIES = ["Sure - here's a first pass. Let me know what to change.", "Good question! Short version: it depends on your budget and timeline.",
           "Here are three options, from simplest to most thorough.", "I'd start by listing what you already have, then fill the gaps.",
           "Happy to help. A couple of clarifying questions first: who is the audience, and how long should it be?",
           "Done. I kept the tone light and trimmed the second paragraph.", "That's a common mix-up; the key difference is scope."]


def long_chats(rnd, n):
    """Long benign conversations as a proxy sees them (history resent every turn)."""
    out = []
    for i in range(n):
        turns = []
        if rnd.random() < 0.5:
            turns.append("[system]\nYou are " + rnd.choice(SYS_ROLES) + ". " + " ".join(rnd.sample(SYS_RULES, 3)))
        for j in range(rnd.randint(8, 30)):
            turns.append("[user]\n" + fill(rnd.choice(EN_T), rnd, H))
            turns.append("[assistant]\n" + " ".join(rnd.sample(REPLIES, rnd.randint(1, 3))))
        out.append(row("\n".join(turns), [], "heldout_long_docs", f"chat{i % 10}", "en", "long_chat"))
    return out


def generate(seed=3101):
    rnd = random.Random(seed)
    return short(rnd, 9000) + long_docs(rnd) + long_chats(rnd, 500)
