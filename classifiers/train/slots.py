"""Shared helpers for the v2 corpus generators: rows, slot filling, and English slot fillers."""
import re

LABELS = ["prompt_injection", "jailbreak", "harmful", "source_code", "confidential", "phi"]


def row(text, labels, source, group, lang="en", kind="other"):
    return {"text": text, "labels": sorted(set(labels)), "source": source, "group": f"{source}:{group}",
            "lang": lang, "kind": kind}


_SLOT = re.compile(r"\{(\w+)\}")


def fill(tpl, rnd, slots, depth=0):
    """Replace every {name} with a random filler from slots[name] (fillers may hold slots too).
    Unknown names are left as they are (so JSON braces survive)."""
    def rep(m):
        v = slots.get(m.group(1))
        if v is None:
            return m.group(0)
        return fill(rnd.choice(v), rnd, slots, depth + 1) if depth < 3 else rnd.choice(v)
    return _SLOT.sub(rep, tpl)


EN = {
    "topic": ["the quarterly offsite", "our onboarding guide", "a customer apology", "the Q3 roadmap", "the data retention policy",
              "team lunch options", "a product launch", "the API migration", "the sprint retrospective", "a vendor comparison",
              "the holiday schedule", "customer churn", "our support macros", "the new expense policy", "remote work guidelines",
              "the hiring plan for next year", "the office move", "the annual budget", "our brand guidelines", "a price increase",
              "the warehouse inventory count", "the customer satisfaction survey", "the marketing calendar", "a partnership proposal",
              "the board meeting agenda", "the CRM rollout", "our sustainability report", "the new parental leave policy",
              "the mobile app redesign", "a webinar on cloud costs", "the intern program", "the security awareness training",
              "the Q4 sales kickoff", "a conference talk", "the release notes for version 2.3", "the cafeteria menu change",
              "a podcast episode about productivity", "the wellness week", "the charity fundraiser", "the new logo",
              "late deliveries from our supplier", "the performance review cycle", "our pricing page", "the loyalty program",
              "the database upgrade", "the quarterly newsletter", "flexible working hours", "the team reorganization",
              "a customer case study", "the user research findings", "our return policy", "the trade show booth",
              "the kitchen renovation", "my thesis defense", "a neighborhood cleanup", "the school science fair",
              "my daughter's birthday party", "a book club meeting", "the family reunion", "a garage sale"],
    "doc": ["email", "memo", "blog post", "LinkedIn post", "press release", "announcement", "newsletter section", "FAQ",
            "one-pager", "status update", "Slack message", "cover letter", "thank-you note", "job description", "proposal",
            "meeting invite", "product description", "tweet", "short report", "executive summary", "speech", "toast",
            "README section", "user story", "survey", "checklist", "lesson plan", "case study", "recipe card", "itinerary"],
    "tone": ["friendly", "formal", "concise", "persuasive", "warm", "neutral", "upbeat", "professional", "casual", "empathetic",
             "confident", "playful", "diplomatic", "direct"],
    "audience": ["new hires", "our customers", "the leadership team", "engineers", "a non-technical audience", "investors",
                 "high school students", "my manager", "the sales team", "parents", "small business owners", "nurses",
                 "first-year students", "retirees", "the finance department", "our partners", "beginners", "executives"],
    "n": ["3", "5", "7", "10", "three", "five", "a few", "four", "six", "twelve", "20"],
    "plang": ["Python", "JavaScript", "TypeScript", "Rust", "Go", "Java", "C#", "C++", "Kotlin", "Swift", "Ruby", "PHP", "SQL",
              "Bash", "Scala", "R", "Elixir", "Haskell", "Dart", "Lua"],
    "tech": ["Docker", "Kubernetes", "PostgreSQL", "Redis", "Kafka", "React", "Django", "Spring Boot", "Terraform", "GraphQL",
             "gRPC", "Nginx", "Elasticsearch", "pandas", "NumPy", "Git", "GitHub Actions", "AWS Lambda", "S3", "SQLite",
             "MongoDB", "RabbitMQ", "Airflow", "dbt", "Snowflake", "Vue", "Next.js", "Flask", "FastAPI", "Tailwind CSS",
             "WebAssembly", "OAuth 2.0", "systemd", "cron", "Excel", "Power BI", "Tableau", "Jupyter", "VS Code", "Vim"],
    "concept": ["event sourcing", "CQRS", "dependency injection", "microservices", "eventual consistency", "the CAP theorem",
                "a monad", "garbage collection", "database indexing", "sharding", "rate limiting", "idempotency", "memoization",
                "recursion", "big-O notation", "a hash map", "a B-tree", "async/await", "a mutex", "a race condition",
                "a closure", "tail call optimization", "functional programming", "object-oriented design", "unit testing",
                "test-driven development", "continuous integration", "blue-green deployment", "feature flags", "caching",
                "load balancing", "vector databases", "embeddings", "gradient descent", "overfitting", "cross-validation",
                "regularization", "a REST API", "websockets", "two-phase commit", "the actor model", "backpressure",
                "semantic versioning", "technical debt", "domain-driven design", "a message queue", "a data lake",
                "a star schema", "normalization in databases", "ACID transactions", "optimistic locking", "a bloom filter",
                "consistent hashing", "a linked list", "dynamic programming", "a binary search", "a trie", "SOLID principles"],
    "country": ["Peru", "Kenya", "Norway", "Japan", "Brazil", "Canada", "Australia", "Egypt", "Vietnam", "Chile", "Portugal",
                "Morocco", "Finland", "Argentina", "Thailand", "Ghana", "Mongolia", "Iceland", "Colombia", "New Zealand",
                "Poland", "Indonesia", "Ireland", "Nepal", "Uruguay", "Switzerland", "Senegal", "Greece", "Mexico", "India",
                "Kazakhstan", "Tunisia", "Croatia", "Bolivia", "Sri Lanka", "Austria", "Estonia", "Jamaica", "Malaysia", "Oman"],
    "city": ["Lisbon", "Kyoto", "Toronto", "Barcelona", "Cape Town", "Seoul", "Mexico City", "Prague", "Vienna", "Buenos Aires",
             "Singapore", "Copenhagen", "Marrakesh", "Edinburgh", "Hanoi", "Munich", "Montreal", "Istanbul", "Sydney", "Lima",
             "Berlin", "Osaka", "Dublin", "Rome", "Bangkok", "Chicago", "Amsterdam", "Porto", "Reykjavik", "Nairobi"],
    "food": ["lasagna", "chicken curry", "banana bread", "miso soup", "a vegan chili", "pad thai", "sourdough bread",
             "tiramisu", "ratatouille", "fish tacos", "a Greek salad", "mushroom risotto", "pancakes", "lentil soup",
             "beef stew", "paella", "gyoza", "shakshuka", "apple pie", "guacamole", "a quiche", "falafel", "pesto pasta"],
    "ingredient": ["eggs", "butter", "cilantro", "heavy cream", "buttermilk", "soy sauce", "fresh basil", "brown sugar",
                   "baking powder", "white wine", "garlic", "parmesan", "coconut milk", "yeast", "lemon juice"],
    "job": ["data analyst", "product manager", "nurse", "teacher", "software engineer", "accountant", "marketing coordinator",
            "customer success manager", "UX designer", "warehouse supervisor", "HR business partner", "sales development rep",
            "paralegal", "barista", "project manager", "civil engineer", "pharmacist", "graphic designer", "chef", "electrician"],
    "company": ["Acme Corp", "Northwind", "Bluebird Logistics", "Pinecrest Bank", "Helio Solar", "Contoso", "Fabrikam",
                "Lumen Health", "Orbit Travel", "Greenleaf Grocers", "Tailspin Toys", "Vertex Analytics", "Maple & Co",
                "Riverbend Dental", "Summit Outdoor", "Nimbus Cloud", "Cobalt Insurance", "Harbor Books", "Atlas Fitness"],
    "product": ["wireless earbuds", "a standing desk", "project management software", "a coffee subscription", "running shoes",
                "an electric bike", "a CRM tool", "a password manager", "a budgeting app", "noise-cancelling headphones",
                "an online course", "a smart thermostat", "a meal kit", "a yoga mat", "a travel backpack", "a robot vacuum"],
    "lang_name": ["French", "Spanish", "German", "Japanese", "Italian", "Portuguese", "Chinese", "Korean", "Dutch", "Polish",
                  "Arabic", "Turkish", "Swedish", "Hindi", "Vietnamese", "Greek", "Brazilian Portuguese", "Czech"],
    "subject": ["photosynthesis", "the French Revolution", "plate tectonics", "the water cycle", "inflation", "supply and demand",
                "the immune system", "black holes", "the Pythagorean theorem", "climate change", "the Roman Empire",
                "compound interest", "DNA replication", "the Industrial Revolution", "electric circuits", "the causes of World War I",
                "natural selection", "the stock market", "quantum entanglement", "the Renaissance", "probability", "volcanoes",
                "the Cold War", "the nitrogen cycle", "opportunity cost", "the theory of relativity", "Shakespeare's sonnets",
                "the periodic table", "fractions", "the greenhouse effect", "the Silk Road", "Newton's laws of motion"],
    "symptom": ["a mild headache", "trouble sleeping", "seasonal allergies", "a sore throat", "lower back pain", "heartburn",
                "dry skin", "a stiff neck", "muscle soreness after running", "low energy in the afternoon", "a runny nose",
                "tension headaches", "jet lag", "eye strain from screens", "leg cramps at night"],
    "hobby": ["gardening", "photography", "chess", "rock climbing", "knitting", "birdwatching", "woodworking", "running",
              "learning the guitar", "watercolor painting", "baking", "hiking", "pottery", "cycling", "sourdough baking", "yoga"],
    "fin": ["a Roth IRA", "an index fund", "dollar-cost averaging", "EBITDA", "working capital", "a balance sheet", "accrued expenses",
            "depreciation", "the price-to-earnings ratio", "gross margin", "a cash flow statement", "deferred revenue",
            "amortization", "a 401(k) match", "net present value", "customer lifetime value", "burn rate", "a budget variance"],
    "legal": ["a non-disclosure agreement", "a non-compete clause", "force majeure", "an indemnification clause", "GDPR",
              "a service level agreement", "intellectual property assignment", "a power of attorney", "a limited liability company",
              "fair use", "a trademark", "an employment contract", "a lease renewal", "a data processing agreement", "arbitration"],
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
    "person": ["Maria", "Tom", "Aisha", "Kenji", "Lucas", "Priya", "Olga", "Sam", "Fatima", "Diego", "Chloe", "Ben", "Yuki",
               "Ahmed", "Sofia", "Jonas", "Mei", "Noah", "Leila", "Pedro", "Hannah", "Ravi", "Emma", "Omar"],
    "metric": ["conversion rate", "monthly active users", "average order value", "net promoter score", "churn", "revenue per user",
               "ticket resolution time", "page load time", "gross margin", "on-time delivery rate", "employee turnover"],
    "sport": ["football", "basketball", "tennis", "cricket", "Formula 1", "the Olympics", "baseball", "cycling", "rugby", "golf"],
    "animal": ["octopus", "honeybee", "blue whale", "cheetah", "emperor penguin", "axolotl", "elephant", "crow", "tardigrade", "owl"],
    "book": ["1984", "Pride and Prejudice", "The Great Gatsby", "Dune", "Sapiens", "To Kill a Mockingbird", "The Hobbit",
             "Moby-Dick", "Beloved", "One Hundred Years of Solitude", "The Little Prince", "Thinking, Fast and Slow"],
}
