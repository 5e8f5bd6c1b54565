// Word lists for realistic-looking seed data. Plain data, no logic.
import type { Category } from './constants.ts';

export const FIRST_NAMES = [
  'Ada', 'Alan', 'Amara', 'Anika', 'Aria', 'Arjun', 'Beatriz', 'Ben', 'Carlos', 'Chen', 'Chloe', 'Dara',
  'David', 'Elena', 'Emeka', 'Emma', 'Fatima', 'Felix', 'Grace', 'Hana', 'Hugo', 'Ingrid', 'Isaac', 'Ivan',
  'Jade', 'Javier', 'Jonas', 'Julia', 'Kai', 'Kenji', 'Lars', 'Layla', 'Leo', 'Lina', 'Lucas', 'Maya',
  'Mateo', 'Mei', 'Mira', 'Nadia', 'Nia', 'Noah', 'Olga', 'Omar', 'Oscar', 'Priya', 'Quinn', 'Rafael',
  'Ravi', 'Rosa', 'Sami', 'Sara', 'Sofia', 'Tariq', 'Thea', 'Tomas', 'Uma', 'Victor', 'Wei', 'Yara',
  'Yusuf', 'Zara', 'Zoe', 'Aisha', 'Bruno', 'Camille', 'Diego', 'Elif', 'Farah', 'Greta',
] as const;

export const LAST_NAMES = [
  'Adeyemi', 'Almeida', 'Andersen', 'Bauer', 'Becker', 'Bianchi', 'Brown', 'Castro', 'Chen', 'Costa',
  'Dubois', 'Eriksson', 'Fernandez', 'Fischer', 'Garcia', 'Gupta', 'Hansen', 'Hoffmann', 'Ibrahim', 'Ivanova',
  'Jansen', 'Johnson', 'Kaur', 'Kim', 'Kowalski', 'Kumar', 'Larsen', 'Lee', 'Lopez', 'Martin',
  'Meyer', 'Moreau', 'Mueller', 'Nakamura', 'Nguyen', 'Novak', 'Okafor', 'Olsen', 'Park', 'Patel',
  'Petrov', 'Rossi', 'Santos', 'Sato', 'Schmidt', 'Silva', 'Singh', 'Smith', 'Suzuki', 'Tanaka',
  'Taylor', 'Torres', 'Visser', 'Wagner', 'Wang', 'Weber', 'Williams', 'Wilson', 'Yilmaz', 'Zhang',
] as const;

export const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net'] as const;

export const BRANDS = [
  'Acme', 'Northwind', 'Contoso', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne',
  'Soylent', 'Tyrell', 'Wonka', 'Oscorp', 'Cyberdyne', 'Aperture',
] as const;

export const ADJECTIVES = [
  'Classic', 'Compact', 'Deluxe', 'Eco', 'Ergonomic', 'Essential', 'Lightweight', 'Modern', 'Portable',
  'Premium', 'Pro', 'Rugged', 'Sleek', 'Smart', 'Ultra', 'Vintage', 'Wireless', 'Handmade',
] as const;

/** Per category: nouns, price range in cents, weight range in grams. */
export const CATEGORY_SPECS: Record<Category, { nouns: readonly string[]; price: [number, number]; weight: [number, number] }> = {
  Electronics: {
    nouns: ['Headphones', 'Speaker', 'Keyboard', 'Mouse', 'Monitor', 'Charger', 'Webcam', 'Tablet', 'Smartwatch', 'Router'],
    price: [1_999, 89_999],
    weight: [50, 6_000],
  },
  'Home & Kitchen': {
    nouns: ['Kettle', 'Blender', 'Frying Pan', 'Knife Set', 'Coffee Grinder', 'Toaster', 'Cutting Board', 'Desk Lamp', 'Throw Blanket'],
    price: [999, 24_999],
    weight: [200, 5_000],
  },
  Books: {
    nouns: ['Cookbook', 'Novel', 'Field Guide', 'Atlas', 'Poetry Collection', 'Biography', 'Graphic Novel', 'Handbook'],
    price: [799, 4_999],
    weight: [150, 1_500],
  },
  'Sports & Outdoors': {
    nouns: ['Tent', 'Backpack', 'Yoga Mat', 'Water Bottle', 'Running Shoes', 'Bike Helmet', 'Dumbbell Set', 'Sleeping Bag'],
    price: [1_499, 39_999],
    weight: [100, 15_000],
  },
  'Toys & Games': {
    nouns: ['Board Game', 'Puzzle', 'Building Set', 'Plush Bear', 'Card Game', 'Kite', 'Train Set', 'Science Kit'],
    price: [599, 14_999],
    weight: [100, 3_000],
  },
  Clothing: {
    nouns: ['Hoodie', 'Rain Jacket', 'T-Shirt', 'Wool Socks', 'Jeans', 'Scarf', 'Sneakers', 'Beanie'],
    price: [999, 19_999],
    weight: [50, 1_500],
  },
  Beauty: {
    nouns: ['Face Cream', 'Shampoo', 'Lip Balm', 'Sunscreen', 'Hair Dryer', 'Perfume', 'Body Lotion'],
    price: [399, 12_999],
    weight: [20, 900],
  },
  Garden: {
    nouns: ['Watering Can', 'Pruning Shears', 'Planter', 'Garden Hose', 'Seed Kit', 'Bird Feeder', 'Rake'],
    price: [499, 19_999],
    weight: [100, 8_000],
  },
  Office: {
    nouns: ['Notebook', 'Fountain Pen', 'Desk Organizer', 'Office Chair', 'Stapler', 'Whiteboard', 'Backpack'],
    price: [299, 49_999],
    weight: [20, 18_000],
  },
  Grocery: {
    nouns: ['Olive Oil', 'Coffee Beans', 'Green Tea', 'Dark Chocolate', 'Honey', 'Pasta', 'Granola'],
    price: [249, 3_999],
    weight: [100, 2_000],
  },
};

export const PRODUCT_BLURBS = [
  'Built to last and designed for everyday use.',
  'A customer favourite, now with improved materials.',
  'Thoughtfully designed with attention to every detail.',
  'Great value without compromising on quality.',
  'Tested by our team for months before launch.',
  'Ships in recyclable packaging.',
  'Backed by a two-year warranty.',
  'Perfect as a gift or a treat for yourself.',
] as const;

/** Review sentences by rating (index 0 = 1 star). `{noun}` is replaced by the product's noun. */
export const REVIEW_SENTENCES: readonly (readonly string[])[] = [
  [
    'Broke after a week.', 'Very disappointed with this {noun}.', 'Not as described.', 'Would not buy again.',
    'Returned it the next day.', 'Poor quality for the price.',
  ],
  [
    'The {noun} works, barely.', 'Expected more for the money.', 'Some parts feel cheap.',
    'Delivery was slow and the box was damaged.', 'It does the job, but not well.',
  ],
  [
    'An okay {noun}.', 'Does what it says, nothing more.', 'Average quality.', 'Fine for occasional use.',
    'Decent, but there are better options.',
  ],
  [
    'Really good {noun}.', 'Solid build and arrived quickly.', 'Happy with this purchase.',
    'Good value for the price.', 'Would recommend to a friend.', 'Minor flaws, but overall great.',
  ],
  [
    'Absolutely love this {noun}!', 'Exceeded my expectations.', 'Best purchase this year.',
    'Five stars, would buy again.', 'Perfect in every way.', 'Bought a second one as a gift.',
  ],
];
