// The emulator's vocabulary, modelled on the real rows in shared/data (copied into the
// source once, so the binary never reads the data at run time): the 13 categories, the 241
// country names (some with parentheses), frequent poster and user names, and title words.
#include "stream/emulator/vocabulary.h"

namespace pinstream::runtime::emulator::vocab {
namespace {

const char* const kCategories[] = {"art",           "beauty",     "christmas", "diy-and-crafts",
                                   "education",     "event-planning", "finance", "home-decor",
                                   "mens-fashion",  "quotes",     "tattoos",   "travel",
                                   "vehicles"};
// Subjects per category (same order as kCategories), for titles that read like the real ones.
const char* const kSubjects[][6] = {
    {"Illustration", "Watercolor Painting", "Sketch", "Art Print", "Portrait", "Mural"},
    {"Makeup Look", "Skincare Routine", "Hairstyle", "Nail Art", "Eyeliner", "Lipstick"},
    {"Christmas Tree", "Holiday Wreath", "Ornament", "Advent Calendar", "Gingerbread", "Stocking"},
    {"Paper Craft", "Mason Jar", "Crochet Pattern", "Wood Sign", "Macrame", "Felt Garland"},
    {"Classroom Activity", "Lesson Plan", "Math Worksheet", "Reading Chart", "Science Fair", "Teacher Hack"},
    {"Wedding Table", "Birthday Party", "Baby Shower", "Party Favor", "Centerpiece", "Backdrop"},
    {"Budget Plan", "Savings Challenge", "Side Hustle", "Dividend Stock", "Debt Payoff", "Money Tip"},
    {"Living Room", "Bedroom Decor", "Kitchen Shelf", "Farmhouse Style", "Gallery Wall", "Entryway"},
    {"Street Style", "Suit", "Sneaker", "Leather Jacket", "Watch", "Outfit"},
    {"Life Quote", "Love Quote", "Motivation", "Inspirational Saying", "Funny Quote", "Mindset"},
    {"Tattoo Design", "Small Tattoo", "Sleeve Tattoo", "Floral Tattoo", "Script Tattoo", "Line Tattoo"},
    {"Road Trip", "Beach Resort", "City Guide", "Packing List", "Hidden Gem", "Island Escape"},
    {"Classic Car", "Motorcycle", "Pickup Truck", "Camper Van", "Sports Car", "Car Interior"}};
const char* const kAdjectives[] = {"Easy", "DIY", "Beautiful", "Modern", "Vintage", "Creative",
                                   "Simple", "Best", "Minimalist", "Colorful", "Cozy", "Bold",
                                   "Classic", "Summer", "Winter", "Cute", "Rustic", "Unique"};
const char* const kTails[] = {"Ideas", "Tips", "Inspiration", "for Beginners", "You Will Love",
                              "to Try This Year", "on a Budget", "Guide", "Collection", "Tutorial"};
const char* const kSentences[] = {
    "Find and save ideas about this on Pinterest.", "A step by step guide with pictures.",
    "Everything you need to know before you start.", "Our favourite picks of the season.",
    "Get inspired by these amazing examples.", "Simple, quick and cheap to make at home.",
    "Click through for the full tutorial and free printable.", "See more ideas in the gallery.",
    "Perfect for any occasion and any budget.", "These will make you smile every single day."};

const char* const kCountries[] = {
    "Afghanistan", "Albania", "Algeria", "American Samoa", "Andorra", "Angola", "Anguilla",
    "Antarctica (the territory South of 60 deg S)", "Antigua and Barbuda", "Argentina", "Armenia",
    "Aruba", "Australia", "Austria", "Azerbaijan", "Bahamas", "Bahrain", "Bangladesh", "Barbados",
    "Belarus", "Belgium", "Belize", "Benin", "Bermuda", "Bhutan", "Bolivia",
    "Bosnia and Herzegovina", "Botswana", "Bouvet Island (Bouvetoya)", "Brazil",
    "British Indian Ocean Territory (Chagos Archipelago)", "British Virgin Islands",
    "Brunei Darussalam", "Bulgaria", "Burkina Faso", "Burundi", "Cambodia", "Cameroon", "Canada",
    "Cape Verde", "Cayman Islands", "Central African Republic", "Chad", "Chile", "China",
    "Christmas Island", "Cocos (Keeling) Islands", "Colombia", "Comoros", "Congo", "Cook Islands",
    "Costa Rica", "Cote d'Ivoire", "Croatia", "Cuba", "Cyprus", "Czech Republic", "Denmark",
    "Djibouti", "Dominica", "Dominican Republic", "Ecuador", "Egypt", "El Salvador",
    "Equatorial Guinea", "Eritrea", "Estonia", "Ethiopia", "Falkland Islands (Malvinas)",
    "Faroe Islands", "Fiji", "Finland", "France", "French Guiana", "French Polynesia",
    "French Southern Territories", "Gabon", "Gambia", "Georgia", "Germany", "Ghana", "Gibraltar",
    "Greece", "Greenland", "Grenada", "Guadeloupe", "Guam", "Guatemala", "Guernsey", "Guinea",
    "Guinea-Bissau", "Guyana", "Haiti", "Heard Island and McDonald Islands",
    "Holy See (Vatican City State)", "Honduras", "Hong Kong", "Hungary", "Iceland", "India",
    "Indonesia", "Iran", "Iraq", "Ireland", "Isle of Man", "Israel", "Italy", "Jamaica", "Japan",
    "Jersey", "Jordan", "Kazakhstan", "Kenya", "Kiribati", "Korea", "Kuwait", "Kyrgyz Republic",
    "Lao People's Democratic Republic", "Latvia", "Lebanon", "Lesotho", "Liberia",
    "Libyan Arab Jamahiriya", "Liechtenstein", "Lithuania", "Luxembourg", "Macao", "Macedonia",
    "Madagascar", "Malawi", "Malaysia", "Maldives", "Mali", "Malta", "Marshall Islands",
    "Martinique", "Mauritania", "Mauritius", "Mayotte", "Mexico", "Micronesia", "Moldova",
    "Monaco", "Mongolia", "Montenegro", "Montserrat", "Morocco", "Mozambique", "Myanmar",
    "Namibia", "Nauru", "Nepal", "Netherlands", "Netherlands Antilles", "New Caledonia",
    "New Zealand", "Nicaragua", "Niger", "Nigeria", "Niue", "Norfolk Island",
    "Northern Mariana Islands", "Norway", "Oman", "Pakistan", "Palau", "Palestinian Territory",
    "Panama", "Papua New Guinea", "Paraguay", "Peru", "Philippines", "Pitcairn Islands", "Poland",
    "Portugal", "Puerto Rico", "Qatar", "Reunion", "Romania", "Russian Federation", "Rwanda",
    "Saint Barthelemy", "Saint Helena", "Saint Kitts and Nevis", "Saint Lucia", "Saint Martin",
    "Saint Pierre and Miquelon", "Saint Vincent and the Grenadines", "Samoa", "San Marino",
    "Sao Tome and Principe", "Saudi Arabia", "Senegal", "Serbia", "Seychelles", "Singapore",
    "Slovakia (Slovak Republic)", "Slovenia", "Solomon Islands", "Somalia", "South Africa",
    "South Georgia and the South Sandwich Islands", "Spain", "Sri Lanka", "Sudan", "Suriname",
    "Svalbard & Jan Mayen Islands", "Swaziland", "Sweden", "Switzerland", "Syrian Arab Republic",
    "Taiwan", "Tajikistan", "Tanzania", "Thailand", "Timor-Leste", "Togo", "Tokelau", "Tonga",
    "Trinidad and Tobago", "Tunisia", "Turkey", "Turkmenistan", "Turks and Caicos Islands",
    "Tuvalu", "Uganda", "Ukraine", "United Kingdom", "United States Minor Outlying Islands",
    "United States Virgin Islands", "United States of America", "Uruguay", "Uzbekistan",
    "Vanuatu", "Venezuela", "Vietnam", "Wallis and Futuna", "Western Sahara", "Yemen", "Zambia",
    "Zimbabwe",
};

const char* const kPosters[] = {
    "YourTango", "Bored Panda", "Walmart", "Our Mindful Life", "The Minds Journal", "BuzzFeed",
    "Dividends Diversify: Money Matters So Build Wealth & Be Rich",
    "Mens Fashion - LIFESTYLE BY PS ", "Next Luxury", "TheUnstitchd", "One Little Project",
    "Boop Decals", "SOCIETY19", "Wear24-7", "HikenDip", "Jacqueline MB Designs", "Blossom",
    "Mala Rock | Rock T-shirts", "TheTrendSpotter", "Projects with Kids", "Hand Luggage Only",
    "Byrdie", "WeAreTeachers", "Women.com", "Iva A. Ursano Amazing Me Movement",
    "Yanko Design - Form Beyond Function",
    "Easy Kids Crafts & Activities | Preschool & Kindergarten Ideas", "Teachers Pay Teachers",
    "POPSUGAR", "K&S Precision Metals", "Mamas Uncut",
    "Beautyholo | Latest Hairstyles, Nail Design Ideas, Home Décor DIY, Women Fashion Ideas",
    "The Kitchen Table Classroom", "Ethnic Earring", "The Best Ideas for Kids",
    "Glued To My Crafts", "IdeasDonuts", "Fun Life Crisis", "DIYnCrafts.Com", "Glaminati",
    "Girl Crafts", "Pathway 2 Success", "The Practical Saver | Save Money",
    "She Gave It A Go| Faith Family Farmhouse", "Relationship Rules", "Love & Lion",
    "Follow Me Away", "Better Homes and Gardens", "Elements of the Art Room",
    "The Creativity Exchange", "Craft-Mart", "CraftGossip.com", "Half Baked Harvest",
    "I Heart Crafty Things", "Stacey Collins | Wilshire Collections", "The Cottage Market",
    "Apartment Therapy", "Shake Up Learning", "Especially Education",
    "EventPlanning.com | Learn How To Become An Event Planner", "GloryInvestingShow",
    "Gathering Dreams | Do What You Love", "9GAG", "aufeminin", "Cool Material",
    "A Piece of Rainbow", "ArtsyCraftsyMom | Art, Craft & DIY ideas",
    "Prudent Penny Pincher - Home Decor, Organization, Crafts, Recipes", "Cheezburger",
    "EsLaModa", "LITTLE SHINE", "Musely", "Stylecraze", "Kitchen Fun With My 3 Sons",
    "Caroline|CarolineVencil.com | Saving & Making Money | Pro Blogger", "Jen's Clever DIY",
    "One Kindesign", "Lady Decluttered | Decluttering, Organizing, & Simple Living Tips",
    "Traci Bender - The Bender Bunch", "ifyousayido",
};

const char* const kFirstNames[] = {
    "Aaron", "Amanda", "Adam", "Andrew", "Angela", "Abigail", "David", "Christopher", "Anthony",
    "Amy", "Brian", "Ashley", "Alexandria", "James", "Michael", "Benjamin", "Andrea", "Alexander",
    "Brandon", "Alexandra", "Daniel", "Amber", "John", "Jennifer", "April", "Allison", "Anna",
    "Albert", "Charles", "Jason", "Christina", "Elizabeth", "Alexis", "Alison", "Alicia",
    "Joseph", "Robert", "Jessica", "Alex", "Cynthia", "Danielle", "Heather", "Barbara", "Anne",
    "Courtney", "Eric", "Jeffrey", "Matthew", "Alan", "Gregory", "Lisa", "Austin", "Brenda",
    "Ann", "Mary", "Alejandra", "Sarah", "Kelly", "Mark", "Jonathan", "Corey", "Bradley", "Alvin",
    "Kevin", "Karen", "Carrie", "Antonio", "Michelle", "Brittany", "William", "Becky", "Bryan",
    "Joshua", "Nicole", "Carlos", "Bobby", "Kimberly", "Thomas", "Annette", "Justin",
};

const char* const kLastNames[] = {
    "Anderson", "Adams", "Brown", "Abbott", "Alexander", "Allen", "Acosta", "Johnson", "Baker",
    "Bailey", "Davis", "Alvarado", "Jones", "Andrews", "Ali", "Alvarez", "Bell", "Bennett",
    "Bates", "Barnes", "Berg", "Smith", "Burns", "Carter", "Garcia", "Gonzalez", "Campbell",
    "Acevedo", "Armstrong", "Miller", "Cook", "Arnold", "Clark", "Brady", "Allison", "Cole",
    "Brooks", "Casey", "Aguilar", "Burke", "Hernandez", "Bartlett", "Carpenter", "Thompson",
    "Evans", "Cortez", "Atkins", "Bryant", "Cruz", "Jackson", "Rodriguez", "Collins", "Flores",
    "Martinez", "Taylor", "Lee", "Barker", "Hill", "Edwards", "Craig", "Green", "Dixon",
    "Griffin", "Carroll", "Austin", "Bird", "Williams", "Buchanan", "Martin", "Hall", "Lopez",
    "Banks", "Howard", "Thomas", "Harris", "Hunt", "Carlson", "Hansen", "Chen", "Barnett",
};

template <typename T, size_t N>
constexpr size_t count_of(const T (&)[N]) {
  return N;
}

}  // namespace

List categories() { return {kCategories, count_of(kCategories)}; }
List subjects(size_t category) { return {kSubjects[category], 6}; }
List adjectives() { return {kAdjectives, count_of(kAdjectives)}; }
List tails() { return {kTails, count_of(kTails)}; }
List sentences() { return {kSentences, count_of(kSentences)}; }
List countries() { return {kCountries, count_of(kCountries)}; }
List posters() { return {kPosters, count_of(kPosters)}; }
List first_names() { return {kFirstNames, count_of(kFirstNames)}; }
List last_names() { return {kLastNames, count_of(kLastNames)}; }

}  // namespace pinstream::runtime::emulator::vocab
