"""Words for the generated stories (``stories/generate.py``): curated tags, sentences in each
tone, titles, feelings, responses and replies.  Templates have slots (``{staff}``, ``{good}``,
``{service}`` …) that the generator fills.  Everything is made up.
"""

from __future__ import annotations

# Curated tags (slug, name, polarity): the thirty a new site starts with
# (stories/curated_tags.py), so a generated story uses those rows when they exist, and ten more.
STORY_TAGS: list[tuple[str, str, str]] = [
    ("kind-staff", "Kind staff", "good"),
    ("listened-to-me", "Listened to me", "good"),
    ("clear-information", "Clear information", "good"),
    ("quick-service", "Quick service", "good"),
    ("treated-with-dignity", "Treated with dignity", "good"),
    ("felt-safe", "Felt safe", "good"),
    ("clean-and-tidy", "Clean and tidy", "good"),
    ("well-organised", "Well organised", "good"),
    ("helpful-on-the-phone", "Helpful on the phone", "good"),
    ("problem-put-right", "Problem put right", "good"),
    ("easy-to-get-to", "Easy to get to", "good"),
    ("good-food", "Good food", "good"),
    ("kept-me-informed", "Kept me informed", "good"),
    ("involved-my-family", "Involved my family", "good"),
    ("went-the-extra-mile", "Went the extra mile", "good"),
    ("on-time", "On time", "good"),
    ("respected-my-wishes", "Respected my wishes", "good"),
    ("easy-to-use-website", "Easy to use website", "good"),
    ("followed-up", "Followed up", "good"),
    ("waiting-time", "Waiting time", "improve"),
    ("communication", "Communication", "improve"),
    ("getting-an-appointment", "Getting an appointment", "improve"),
    ("staff-attitude", "Staff attitude", "improve"),
    ("cleanliness", "Cleanliness", "improve"),
    ("information-given", "Information given", "improve"),
    ("phone-not-answered", "Phone not answered", "improve"),
    ("repairs-not-done", "Repairs not done", "improve"),
    ("missed-collection", "Missed collection", "improve"),
    ("discharge", "Leaving hospital", "improve"),
    ("pain-relief", "Pain relief", "improve"),
    ("privacy-and-dignity", "Privacy and dignity", "improve"),
    ("access-for-disabled-people", "Access for disabled people", "improve"),
    ("noise-at-night", "Noise at night", "improve"),
    ("parking", "Parking", "improve"),
    ("food-and-drink", "Food and drink", "improve"),
    ("lost-paperwork", "Lost paperwork", "improve"),
    ("cancelled-at-short-notice", "Cancelled at short notice", "improve"),
    ("complaint-handling", "Complaint handling", "improve"),
    ("confusing-letters", "Confusing letters", "improve"),
    ("no-follow-up", "No follow-up", "improve"),
]

STAFF_WORDS = [
    "the nurse", "the receptionist", "the call handler", "the driver", "the housing officer",
    "the doctor", "the social worker", "the librarian", "the crew", "the manager",
    "the healthcare assistant", "the porter", "the officer on the front desk", "the midwife",
    "the physiotherapist", "the caseworker", "the inspector", "the team leader",
    "the volunteer", "the consultant", "the pharmacist", "the support worker",
]
THINGS = [
    "appointment", "letter", "phone call", "visit", "form", "repair", "collection", "referral",
    "assessment", "application", "booking", "email", "follow-up call", "home visit",
    "review meeting", "test results", "prescription", "complaint",
]
WHEN_WORDS = [
    "on a Monday morning", "late on a Friday", "last winter", "in the school holidays",
    "after three weeks", "the same afternoon", "over the weekend", "early one morning",
    "after a long wait", "just before Christmas", "in the middle of the night", "last spring",
]
GOOD_WORDS = ["kind", "patient", "thoughtful", "professional", "cheerful", "calm", "friendly",
              "reassuring", "helpful", "respectful", "quick", "thorough"]
BAD_WORDS = ["rude", "dismissive", "rushed", "confusing", "slow", "careless", "unhelpful",
             "disorganised", "cold", "late", "abrupt", "unclear"]
# Unusual words, each in a few stories in ten thousand: what a "rare word" search finds.
RARE_WORDS = [
    "accordion", "allotment-shed", "anemometer", "armadillo", "asparagus", "balalaika",
    "banjo", "barometer", "beekeeping", "bicycle-bell", "binoculars", "bonsai", "budgerigar",
    "butterscotch", "calligraphy", "canoe", "carousel", "cartwheel", "cello", "chessboard",
    "chinchilla", "clarinet", "compass", "cormorant", "crossword", "crumpets", "dachshund",
    "didgeridoo", "dominoes", "dragonfly", "dulcimer", "eiderdown", "embroidery", "flamingo",
    "flapjack", "foxglove", "gazebo", "gingerbread", "glockenspiel", "gooseberry", "gramophone",
    "harmonica", "harpsichord", "hedgehog", "hopscotch", "hummingbird", "jigsaw", "kayak",
    "kaleidoscope", "kingfisher", "kite", "lantern", "lavender", "lighthouse", "macramé",
    "mandolin", "marmalade", "marzipan", "metronome", "mistletoe", "mongoose", "narwhal",
    "nutcracker", "oboe", "origami", "otter", "paddleboard", "pangolin", "parakeet",
    "periscope", "piccolo", "pinwheel", "platypus", "pogo", "porcupine", "puffin", "quince",
    "quoits", "raccoon", "rhubarb", "rocking-horse", "saxophone", "scarecrow", "seahorse",
    "semaphore", "sextant", "snowglobe", "sousaphone", "spinning-wheel", "starling",
    "sundial", "tambourine", "telescope", "thimble", "toboggan", "tortoise", "trombone",
    "tuba", "typewriter", "ukulele", "unicycle", "velociraptor", "walrus", "weathervane",
    "wheelbarrow", "whippet", "xylophone", "yo-yo", "zither",
]

GOOD_SENTENCES = [
    "{staff} was {good} from the moment I arrived and explained every step of the {thing}.",
    "I was worried before the {thing} but {staff} made me feel at ease straight away.",
    "Everyone I spoke to was {good} and nobody made me feel like I was a nuisance.",
    "The {thing} happened {when} exactly as I had been told it would.",
    "{staff} took the time to listen to me properly and answered all of my questions.",
    "It was a {good} experience and I would like to thank the whole team.",
    "They rang me back when they said they would and the {thing} was sorted quickly.",
    "{staff} noticed I was struggling and found me somewhere quiet to sit down.",
    "The information I was given was clear and I knew what would happen next.",
    "My family were kept informed and felt involved in every decision.",
    "I have used this service for years and it has never been better than it is now.",
    "{staff} was {good} and careful even though they were clearly very busy.",
    "Nothing was too much trouble and the whole thing took less time than I expected.",
    "When I phoned {when} the person who answered knew exactly what to do.",
]
BAD_SENTENCES = [
    "I waited a very long time for the {thing} and nobody told me why.",
    "{staff} was {bad} and did not seem interested in what I was trying to say.",
    "The {thing} was cancelled {when} with no explanation and no new date.",
    "I phoned five times and each time I was passed to someone else.",
    "Nobody read my notes and I had to explain everything again from the start.",
    "The letter about the {thing} was {bad} and I still do not understand what it meant.",
    "I was told someone would call me back {when} but nobody ever did.",
    "{staff} was {bad} with my mother and it left her very upset.",
    "The waiting area was crowded and there was nowhere to sit for an hour.",
    "My complaint about the {thing} has been ignored for weeks.",
    "It felt as if the service was {bad} from start to finish.",
    "I had to take a day off work for the {thing} and then it did not happen.",
    "Nobody explained the delay and the staff seemed {bad} and stretched.",
    "The online form kept failing so I had to give up and go in person {when}.",
]
NEUTRAL_SENTENCES = [
    "I went to the {service} {when} about a {thing} for my father.",
    "This was my first time using the {service} in {place}.",
    "I had been referred to the {service} by my doctor after a fall.",
    "We moved to {place} last year and this was our first contact with the {service}.",
    "I care for my husband, who has dementia, so we went together.",
    "I rang the {service} {when} to ask about a {thing}.",
    "The {thing} had been booked for several weeks before the day came.",
    "My neighbour told me to contact the {service} about it.",
    "I am writing this so that other people in {place} know what to expect.",
    "The building is near the bus station and parking is limited.",
    "I use a wheelchair so I had checked access before I went.",
]
# Added to a few stories only (see RARE_WORD_SHARE in stories/generate.py), so each rare word is rare.
RARE_SENTENCE = "I had brought my {rare} with me, which made the staff smile."
FEELINGS_GOOD = [
    "I felt listened to and respected.", "Relieved and grateful.",
    "I came away feeling reassured.", "Happy, and a lot less anxious than before.",
    "It made a hard week easier.", "Thankful to everyone involved.",
]
FEELINGS_BAD = [
    "I felt ignored and frustrated.", "Angry, and worn out by the whole thing.",
    "It left me anxious about going back.", "I felt like a number, not a person.",
    "Upset, and worried that it will happen to someone else.", "Let down.",
]
TITLES_GOOD = [
    "{Good} care at the {service}", "Thank you to the {service} team",
    "A {good} welcome at the {service}", "Quick help from the {service}",
    "Really {good} staff in {place}", "The {service} went the extra mile",
]
TITLES_BAD = [
    "Long wait at the {service}", "Nobody called me back about my {thing}",
    "{Bad} treatment at the {service}", "Still waiting for the {service}",
    "My {thing} was cancelled again", "Poor communication from the {service} in {place}",
]
TITLES_MIXED = [
    "My visit to the {service}", "Mixed experience of the {service}",
    "Good staff, slow {thing}", "The {service} in {place}",
]
PSEUDONYM_ROLES = ["A patient", "A carer", "A relative", "A service user", "A resident",
                   "A parent", "A tenant", "A local mum", "A local dad", "A pensioner"]

RESPONSE_OPENINGS = [
    "Dear {name}, thank you for taking the time to tell us about your experience of the {service}.",
    "Dear {name}, I am sorry to read about your recent {thing} with us.",
    "Dear {name}, thank you so much for your kind words about the {service}.",
    "Hello {name}, thank you for sharing your story with us.",
]
RESPONSE_SENTENCES = [
    "I have shared your story with the team so that they can learn from it.",
    "I am sorry that we did not keep you informed about the {thing}.",
    "It is really good to hear that the staff were {good} and made a difference.",
    "We are looking at how we handle {thing}s so that this does not happen again.",
    "I would welcome the chance to talk to you about this in more detail.",
    "Your feedback will be discussed at our next team meeting.",
    "We have passed your thanks on to everyone who was on duty that day.",
    "We know that waiting times are too long at the moment and we are recruiting more staff.",
    "Please contact me directly if there is anything more we can do.",
]
CHANGES_PLANNED = [
    "We will send a text message reminder two days before every {thing}.",
    "We are reviewing how calls are answered so that nobody is passed around.",
    "We plan to add more seating and a clear sign to the waiting area.",
    "Staff will have refresher training on communication this spring.",
]
CHANGES_MADE = [
    "We have rewritten our {thing} letters in plain English.",
    "We now call back everyone who leaves a message within one working day.",
    "We have opened a quiet room next to the waiting area.",
    "Missed {thing}s are now rebooked automatically and confirmed by text.",
]
AUTHOR_REPLIES = [
    "Thank you for replying so quickly, it means a lot.",
    "Thank you. I am glad the team will hear about this.",
    "I appreciate the reply, but I am still waiting to hear about the {thing}.",
    "Thank you, I will get in touch as you suggest.",
]
